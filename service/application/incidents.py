"""Incident commands: open, notes, guardian notifications, escalation, links and resolution; the incident and its
timeline, joined with the custody records of its children on its service day.

Gate staff may open incidents and work on them (an unauthorised pickup attempt
starts at the gate); only duty leaders and admins resolve them, and gate staff do not read them back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date, datetime
from functools import reduce
from typing import Any, cast
from uuid import uuid4

from typing_extensions import TypedDict  # pydantic reads these as API schemas too (service.http.schemas)

from aggregates import incidents as rules
from aggregates.base import EventMeta
from aggregates.custody import custody_id
from aggregates.incidents import Incident, IncidentNotFoundError
from events.envelope import HandoffEvent
from events.incidents import IncidentEvent
from replay.state import entry as event_view
from service.application.area import Area
from service.application.context import Actor, CommandContext

Decide = Callable[[Incident, EventMeta], list[IncidentEvent]]
RefusalFacts = tuple[str, str, str]
"""A refusal as an incident records it: reason code, stage and source (the refusal record)."""


class IncidentCommands(Area):
    """The incident record of a school, and its timeline."""

    def open_incident(
        self,
        ctx: CommandContext,
        kind: str,
        children: Sequence[str],
        staff: Sequence[str],
        summary: str,
        incident_id: str | None = None,
        source: str | None = None,
    ) -> dict[str, Any]:
        """Open an incident on today's service day; its id is a new uuid4 hex unless the device chose one."""

        def decide(state: Incident, meta: EventMeta) -> list[IncidentEvent]:
            self.app.require_people(ctx.school_id, children, staff)
            day = self.app.school(ctx.school_id).service_day(meta.timestamp)
            return state.open(meta, kind, day, children, staff, summary, source)

        return self._incident_command(ctx, "manage_incidents", incident_id or uuid4().hex, decide)

    def record_refused_attempt(
        self, ctx: CommandContext, incident_id: str, child_id: str, staff_id: str, refusal: RefusalFacts
    ) -> dict[str, Any]:
        """Open the unauthorised-pickup incident of one child and one person, or add this refusal to it."""

        def decide(state: Incident, meta: EventMeta) -> list[IncidentEvent]:
            reason_code, stage, source = refusal
            opened: list[IncidentEvent] = []
            if not state.version:
                day = self.app.school(ctx.school_id).service_day(meta.timestamp)
                summary = f"Release refused at {stage}: {reason_code}"  # no person's id: exports copy free text
                opened = state.open(meta, "unauthorised_pickup_attempt", day, [child_id], [staff_id], summary, source)
            return opened + reduce(rules.evolve, opened, state).record_attempt(meta, reason_code, stage, source)

        return self._incident_command(ctx, "manage_incidents", incident_id, decide)

    def add_incident_note(self, ctx: CommandContext, incident_id: str, note: str) -> dict[str, Any]:
        """Add a note (free text, no personal data); also after resolution."""
        return self._incident_command(ctx, "manage_incidents", incident_id, lambda s, m: s.add_note(m, note))

    def record_notification(
        self,
        ctx: CommandContext,
        incident_id: str,
        child_id: str,
        guardian_id: str,
        channel: str,
        reached: bool,
    ) -> dict[str, Any]:
        """Record that a linked child's guardian (on the child's list) was told, or could not be reached."""

        def decide(state: Incident, meta: EventMeta) -> list[IncidentEvent]:
            notified = state.record_notification(meta, child_id, guardian_id, channel, reached)
            self.app.guardians(ctx.school_id, child_id).require_listed(guardian_id)
            return notified

        return self._incident_command(ctx, "manage_incidents", incident_id, decide)

    def escalate_incident(self, ctx: CommandContext, incident_id: str, to: str, reason: str) -> dict[str, Any]:
        """Pass the incident up to a role or body (duty leader, principal, police, medical, district)."""
        return self._incident_command(ctx, "manage_incidents", incident_id, lambda s, m: s.escalate(m, to, reason))

    def link_to_incident(
        self, ctx: CommandContext, incident_id: str, children: Sequence[str], staff: Sequence[str]
    ) -> dict[str, Any]:
        """Link more children (on the roster) or staff to the incident."""

        def decide(state: Incident, meta: EventMeta) -> list[IncidentEvent]:
            self.app.require_people(ctx.school_id, children, staff)
            return state.link(meta, children, staff)

        return self._incident_command(ctx, "manage_incidents", incident_id, decide)

    def resolve_incident(self, ctx: CommandContext, incident_id: str, outcome: str) -> dict[str, Any]:
        """Resolve the incident with its outcome (duty leaders and admins); afterwards only notes may be added."""
        return self._incident_command(ctx, "resolve_incident", incident_id, lambda s, m: s.resolve(m, outcome))

    def incident_view(self, actor: Actor, school_id: str, incident_id: str) -> IncidentView:
        """Where the incident stands: who is involved, who was told, where it went, how it ended."""
        actor.require("read_incidents", school_id)
        return incident_view(self._opened_incident(school_id, incident_id))

    def incident_timeline(self, actor: Actor, school_id: str, incident_id: str) -> dict[str, Any]:
        """The incident's events and its children's custody events of its service day, in server-time order."""
        actor.require("read_incidents", school_id)
        state = self._opened_incident(school_id, incident_id)
        recorded = self.app.stored(state.id, HandoffEvent)
        for child_id in state.children:
            recorded += self.app.stored(custody_id(school_id, child_id, state.service_day), HandoffEvent)
        recorded.sort(key=lambda event: event.timestamp)
        return {"incident": incident_view(state), "timeline": [timeline_entry(e) for e in recorded]}

    def incidents_on(self, actor: Actor, school_id: str, day: date) -> list[IncidentView]:
        """The school's incidents of one service day, open or not, in the order they were opened."""
        actor.require("read_incidents", school_id)
        return [incident_view(state) for state in self._incidents_of_day(school_id, day)]

    def children_in_open_incidents(self, school_id: str, day: date, kind: str | None = None) -> dict[str, list[str]]:
        """The children named in the school's incidents of that day (of one kind, if given) that are still open,
        with those incidents."""
        covered: dict[str, list[str]] = {}
        for state in self._incidents_of_day(school_id, day):
            if state.status == "open" and kind in (None, state.kind):
                for child_id in state.children:
                    covered.setdefault(child_id, []).append(state.incident_id)
        return covered

    def _incidents_of_day(self, school_id: str, day: date) -> list[Incident]:
        """The school's incidents of that day as they stand now, each from its own stream, found through the index."""
        return [
            self.app.incident(school_id, incident_id) for incident_id in self.app.index.incident_ids(school_id, day)
        ]

    def _opened_incident(self, school_id: str, incident_id: str) -> Any:
        return self.app.load_existing(
            rules.incident_stream_id(school_id, incident_id), rules.project, IncidentNotFoundError
        )

    def _incident_command(self, ctx: CommandContext, action: str, incident_id: str, decide: Decide) -> dict[str, Any]:
        def decided(meta: EventMeta) -> tuple[list[IncidentEvent], dict[str, Any]]:
            state = self.app.incident(ctx.school_id, incident_id)
            recorded = decide(state, meta)
            return recorded, dict(incident_view(reduce(rules.evolve, recorded, state)))  # the answer as stored

        return self.app.command(ctx, action, decided)


class NotificationView(TypedDict):
    """One attempt to tell a guardian (aggregates.incidents.Notification)."""

    child_id: str
    guardian_id: str
    channel: str
    reached: bool


class AttemptView(TypedDict):
    """One refused pickup attempt grouped into the incident (aggregates.incidents.Attempt)."""

    reason_code: str
    stage: str
    at: datetime


class IncidentView(TypedDict):
    """Where an incident stands, as commands answer and reads show it: ids, kinds and staff's words, never a name."""

    incident_id: str
    kind: str
    service_day: str | None
    summary: str
    children: list[str]
    staff: list[str]
    notes: int
    notified: list[NotificationView]
    escalated_to: list[str]
    status: str
    outcome: str | None
    source: str | None
    opened_at: datetime | None
    attempts: list[AttemptView]
    version: int


def incident_view(state: Incident) -> IncidentView:
    return {
        "incident_id": state.incident_id,
        "kind": state.kind,
        "service_day": state.service_day.isoformat() if state.service_day else None,
        "summary": state.summary,
        "children": list(state.children),
        "staff": list(state.staff),
        "notes": state.notes,
        "notified": cast(list[NotificationView], [asdict(n) for n in state.notified]),
        "attempts": cast(list[AttemptView], [asdict(a) for a in state.attempts]),
        "escalated_to": list(state.escalated_to),
        "status": state.status,
        "outcome": state.outcome,
        "source": state.source,
        "opened_at": state.opened_at,
        "version": state.version,
    }


def timeline_entry(event: HandoffEvent) -> dict[str, Any]:
    """A history entry, saying whether it is the incident's own record or a child's custody record, and which child."""
    record = "incident" if isinstance(event, IncidentEvent) else "custody"
    return {**event_view(event), "record": record, "child_id": getattr(event, "child_id", None)}
