"""Duty leaders' inspection rounds (值班巡查): every class they inspect, when, and what they found."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from aggregates.base import EventMeta, ForbiddenError, stamp, stream_id
from aggregates.permissions import may
from events.duty_rounds import DutyRoundRecorded
from events.envelope import HandoffEvent


class NotOnDutyError(ForbiddenError):
    """Rounds are recorded by the duty leaders on the day's rota."""

    code = "not_on_duty"
    message = "Only today's duty leaders record inspection rounds."


def duty_rounds_id(school_id: str, day: date) -> UUID:
    return stream_id("duty-rounds", school_id, day.isoformat())


@dataclass(frozen=True)
class DutyRounds:
    """The rounds of one school's service day."""

    id: UUID
    version: int
    service_day: date
    inspected: tuple[str, ...] = ()

    @classmethod
    def of(cls, school_id: str, day: date) -> DutyRounds:
        return cls(duty_rounds_id(school_id, day), 0, day)

    def record(
        self, meta: EventMeta, place_code: str, findings: str, all_well: bool, rota: Iterable[str]
    ) -> list[HandoffEvent]:
        """Record one inspection; `rota` is the day's duty leaders (any duty leader if the day was not opened)."""
        leaders = set(rota)
        if not may(meta.actor_role, "record_duty_round") or (leaders and meta.actor_id not in leaders):
            raise NotOnDutyError
        return [
            DutyRoundRecorded(
                **stamp(self.id, self.version, meta),
                service_day=self.service_day.isoformat(),
                place_code=place_code,
                findings=findings,
                all_well=all_well,
            )
        ]


def evolve(state: DutyRounds, event: DutyRoundRecorded) -> DutyRounds:
    """Apply one event. Never raises, never decides."""
    return replace(state, version=event.originator_version, inspected=(*state.inspected, event.place_code))


def project(state: DutyRounds | None, events: Iterable[DutyRoundRecorded]) -> DutyRounds | None:
    for event in events:
        state = evolve(state or DutyRounds(event.originator_id, 0, date.fromisoformat(event.service_day)), event)
    return state
