"""The outbox: one stream per message to a child's guardians, from queued to delivered.

A message is queued once (its id comes from the record it announces), tried until the gateway accepts it, and
never dropped: a failed try records when the next one is due. Nothing here waits for a delivery, so no release
is ever held up by a message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from uuid import UUID

from aggregates.base import EventMeta, InvalidCommandError, NotFoundError, RuleBrokenError, stamp, stream_id
from events.envelope import EventFields
from events.notifications import (
    GuardianMessageDelivered,
    GuardianMessageDeliveryFailed,
    GuardianMessageEvent,
    GuardianMessageQueued,
)

MESSAGE_KINDS = ("guardian_arrived", "child_released", "incident_opened", "emergency")
RETRY_FIRST = timedelta(seconds=5)
RETRY_CAP = timedelta(minutes=5)


class MessageNotFoundError(NotFoundError):
    code = "message_not_found"
    message = "There is no such message in the outbox of this school."


class MessageAlreadyDeliveredError(RuleBrokenError):
    code = "message_already_delivered"
    message = "This message was already delivered."


class UnknownMessageKindError(InvalidCommandError):
    code = "unknown_message_kind"
    message = "Messages are about a guardian's arrival, a release or an incident."


class NoRecipientError(InvalidCommandError):
    code = "no_recipient"
    message = "The child has no guardian to send the message to."


def message_stream_id(school_id: str, message_id: str) -> UUID:
    return stream_id("message", school_id, message_id)


def retry_delay(attempt: int) -> timedelta:
    """Exponential back-off after the n-th failed try: 5 s, 10 s, 20 s … at most 5 minutes."""
    factor: float = 2 ** min(attempt - 1, 16)
    return min(RETRY_CAP, RETRY_FIRST * factor)


@dataclass(frozen=True)
class GuardianMessage:
    """One message's way through the outbox."""

    id: UUID
    version: int
    school_id: str
    message_id: str
    kind: str = ""
    child_id: str = ""
    guardians: tuple[str, ...] = ()
    service_day: date | None = None
    facts: Mapping[str, str] | None = None
    queued_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None

    @classmethod
    def of(cls, school_id: str, message_id: str) -> GuardianMessage:
        return cls(message_stream_id(school_id, message_id), 0, school_id, message_id)

    @property
    def status(self) -> str:
        """queued (not tried yet), failing (tried, not delivered), delivered, or none (never queued)."""
        if self.version == 0:
            return "none"
        if self.delivered_at is not None:
            return "delivered"
        return "failing" if self.attempts else "queued"

    def is_due(self, now: datetime) -> bool:
        return self.status in ("queued", "failing") and (self.next_attempt_at is None or self.next_attempt_at <= now)

    def queue(
        self,
        meta: EventMeta,
        kind: str,
        child_id: str,
        guardians: Sequence[str],
        day: date,
        about: str,
        facts: Mapping[str, str],
    ) -> list[GuardianMessageEvent]:
        """Put the message in the outbox; a message already there is not queued again."""
        if self.version:
            return []
        if kind not in MESSAGE_KINDS:
            raise UnknownMessageKindError
        if not guardians:
            raise NoRecipientError
        return [
            GuardianMessageQueued(
                **self._stamp(meta),
                kind=kind,
                child_id=child_id,
                guardians=sorted(guardians),
                service_day=day.isoformat(),
                about=about,
                facts=dict(facts),
            )
        ]

    def delivered(self, meta: EventMeta, channel: str) -> list[GuardianMessageEvent]:
        self._require_pending()
        return [GuardianMessageDelivered(**self._stamp(meta), channel=channel, attempts=self.attempts + 1)]

    def failed(self, meta: EventMeta, channel: str, error: str) -> list[GuardianMessageEvent]:
        """A try failed: record it, with the time of the next try."""
        self._require_pending()
        attempt = self.attempts + 1
        next_at = meta.timestamp + retry_delay(attempt)
        return [
            GuardianMessageDeliveryFailed(
                **self._stamp(meta), channel=channel, attempt=attempt, error=error[:200], next_attempt_at=next_at
            )
        ]

    def _require_pending(self) -> None:
        if self.version == 0:
            raise MessageNotFoundError
        if self.delivered_at is not None:
            raise MessageAlreadyDeliveredError

    def _stamp(self, meta: EventMeta) -> EventFields[GuardianMessageEvent]:
        return {**stamp(self.id, self.version, meta), "message_id": self.message_id}


def evolve(state: GuardianMessage, event: GuardianMessageEvent) -> GuardianMessage:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    if isinstance(event, GuardianMessageQueued):
        return replace(
            state,
            kind=event.kind,
            child_id=event.child_id,
            guardians=tuple(event.guardians),
            service_day=date.fromisoformat(event.service_day),
            facts=dict(event.facts),
            queued_at=event.timestamp,
        )
    if isinstance(event, GuardianMessageDeliveryFailed):
        return replace(state, attempts=event.attempt, last_error=event.error, next_attempt_at=event.next_attempt_at)
    if isinstance(event, GuardianMessageDelivered):
        return replace(state, attempts=event.attempts, delivered_at=event.timestamp, next_attempt_at=None)
    return state


def project(state: GuardianMessage | None, events: Iterable[GuardianMessageEvent]) -> GuardianMessage | None:
    for event in events:
        state = evolve(state or GuardianMessage.of(event.school_id, event.message_id), event)
    return state
