"""Guardian notifications, the outbox side: queue a message, record its delivery or a failed try, and word it.

Messages are queued by policies reacting to arrivals, releases and incidents
(service/processes/policies.py) and delivered by the notifier (service/processes/notifier.py); both act as the
system, never as a member of staff. The wording uses references and times only, in Chinese and English: the
school's messaging gateway, which holds the guardians' phone numbers, sends it on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import reduce
from typing import Any

from aggregates import outbox as rules
from aggregates.base import EventMeta
from aggregates.outbox import GuardianMessage, MessageNotFoundError
from events.notifications import GuardianMessageEvent
from service.application.area import Area
from service.application.context import Actor, CommandContext

Decide = Callable[[GuardianMessage, EventMeta], list[GuardianMessageEvent]]

TEXT = {
    "guardian_arrived": {
        "zh-CN": "{school}：{guardian} 已于 {time} 到校接 {child}，正在核对。",
        "en": "{school}: {guardian} arrived at {time} to collect {child} and is being checked.",
    },
    "child_released": {
        "zh-CN": "{school}：{child} 已于 {time} 由 {guardian} 接走。",
        "en": "{school}: {child} left at {time} with {guardian}.",
    },
    "child_released_alone": {
        "zh-CN": "{school}：{child} 已于 {time} 按约定自行离校。",
        "en": "{school}: {child} left alone at {time}, as agreed.",
    },
    "emergency": {
        "zh-CN": "{school}：学校于 {time} 启动应急预案。{child} 在老师看护下，请到 {point} 接孩子，并带好接送凭证。",
        "en": "{school}: the school entered emergency mode at {time}. {child} is with a teacher; "
        "collect them at {point} and bring your pickup code.",
    },
    "incident_opened": {
        "zh-CN": "{school}：{time} 有一起与 {child} 有关的事件（{incident_kind}），学校正在处理，请留意来电。",
        "en": "{school}: at {time} an incident ({incident_kind}) involving {child} was opened; "
        "the school is on it and may call you.",
    },
}


class OutboxCommands(Area):
    """The outbox of a school: messages to guardians, and how their delivery went."""

    def queue_message(
        self,
        ctx: CommandContext,
        message_id: str,
        kind: str,
        child_id: str,
        day: date,
        about: str,
        facts: Mapping[str, str],
    ) -> dict[str, Any]:
        """Queue a message to the guardians authorised to collect the child on that day (once per message id)."""

        def decide(state: GuardianMessage, meta: EventMeta) -> list[GuardianMessageEvent]:
            found = self.app.guardians(ctx.school_id, child_id)
            recipients = [g for g in found.authorisations if found.is_authorised(g, day)]
            return state.queue(meta, kind, child_id, recipients, day, about, facts)

        return self._message_command(ctx, "queue_messages", message_id, decide)

    def record_delivery(self, ctx: CommandContext, message_id: str, channel: str) -> dict[str, Any]:
        return self._message_command(ctx, "deliver_messages", message_id, lambda s, m: s.delivered(m, channel))

    def record_delivery_failure(self, ctx: CommandContext, message_id: str, channel: str, error: str) -> dict[str, Any]:
        return self._message_command(ctx, "deliver_messages", message_id, lambda s, m: s.failed(m, channel, error))

    def guardian_message(self, school_id: str, message_id: str) -> GuardianMessage:
        found = self.app.load(rules.message_stream_id(school_id, message_id), rules.project)
        return found or GuardianMessage.of(school_id, message_id)

    def message_view(self, actor: Actor, school_id: str, message_id: str) -> dict[str, Any]:
        """Where one message stands: recipients, tries, the last error, and its wording."""
        actor.require("read_messages", school_id)
        state = self.guardian_message(school_id, message_id)
        if state.version == 0:
            raise MessageNotFoundError
        return {**message_view(state), "text": self.message_text(state)}

    def message_text(self, state: GuardianMessage) -> dict[str, str]:
        """The message in Chinese and English, with the school's local time; references, no names."""
        school = self.app.school(state.school_id)
        facts = dict(state.facts or {})
        at = facts.get("at")
        local = school.local_now(datetime.fromisoformat(at)).strftime("%H:%M") if at else ""
        template = state.kind
        if state.kind == "child_released" and not facts.get("guardian_id"):
            template = "child_released_alone"
        words = {
            "school": school.school_id,
            "child": state.child_id,
            "guardian": facts.get("guardian_id", ""),
            "time": local,
            "incident_kind": facts.get("incident_kind", ""),
            "point": facts.get("reunification_point", ""),
        }
        return {language: text.format(**words) for language, text in TEXT[template].items()}

    def _message_command(self, ctx: CommandContext, action: str, message_id: str, decide: Decide) -> Any:
        def decided(meta: EventMeta) -> tuple[list[GuardianMessageEvent], dict[str, Any]]:
            state = self.guardian_message(ctx.school_id, message_id)
            recorded = decide(state, meta)
            return recorded, message_view(reduce(rules.evolve, recorded, state))

        return self.app.command(ctx, action, decided)


def message_view(state: GuardianMessage) -> dict[str, Any]:
    return {
        "message_id": state.message_id,
        "kind": state.kind,
        "child_id": state.child_id,
        "guardians": list(state.guardians),
        "service_day": state.service_day.isoformat() if state.service_day else None,
        "status": state.status,
        "attempts": state.attempts,
        "last_error": state.last_error,
        "queued_at": state.queued_at,
        "next_attempt_at": state.next_attempt_at,
        "delivered_at": state.delivered_at,
    }
