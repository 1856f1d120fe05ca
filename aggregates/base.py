"""What every aggregate shares: stream ids, the metadata stamped on events, and the error hierarchy."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from events.envelope import Envelope, EventFields, HandoffEvent

HANDOFF_NAMESPACE = uuid5(NAMESPACE_URL, "https://handoff.school/streams")


def stream_id(kind: str, *parts: str) -> UUID:
    """A stream's id, derived from its kind and natural key so that any process finds the same stream."""
    return uuid5(HANDOFF_NAMESPACE, "/".join((kind, *parts)))


@dataclass(frozen=True)
class EventMeta(Envelope):
    """Who did what, from where and when: copied onto every event a command records."""

    timestamp: datetime
    """Server time: authoritative for ordering and for every rule about time."""

    @property
    def clock_skew_seconds(self) -> int:
        """How far the device's clock is behind the server's (negative: ahead), in whole seconds."""
        return round((self.timestamp - self.device_time).total_seconds())

    def fields(self) -> dict[str, Any]:
        return {**asdict(self), "clock_skew_seconds": self.clock_skew_seconds}


def stamp(stream: UUID, version: int, meta: EventMeta) -> EventFields[HandoffEvent]:
    """The fields every event of a stream's next version carries."""
    return {
        "originator_id": stream,
        "originator_version": version + 1,
        "timestamp": meta.timestamp,
        "school_id": meta.school_id,
        "actor_id": meta.actor_id,
        "actor_role": meta.actor_role,
        "device_id": meta.device_id,
        "idempotency_key": meta.idempotency_key,
        "device_time": meta.device_time,
        "clock_skew_seconds": meta.clock_skew_seconds,
    }


class DomainError(Exception):
    """A command was refused; nothing was recorded."""

    code: ClassVar[str] = "refused"
    status: ClassVar[int] = 409
    message: ClassVar[str] = "This action is not allowed now."
    answered: ClassVar[tuple[str, ...]] = ()
    """Details the answer carries beside the message, so a page can say them in its own language."""

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.text = message or self.message.format(**details)
        self.details = details
        super().__init__(self.text)


class RuleBrokenError(DomainError):
    """The action breaks a handoff rule in the current state."""

    status = 409


class NotFoundError(DomainError):
    """Something the command names does not exist at this school."""

    status = 404
    code = "not_found"


class InvalidCommandError(DomainError):
    """The command is malformed or names something that cannot be used this way."""

    status = 422
    code = "invalid_command"


class ForbiddenError(DomainError):
    """The acting staff member may not do this."""

    status = 403
    code = "forbidden"
