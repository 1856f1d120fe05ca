"""Headcounts (清点人数): a teacher counts the children at a place; whoever is expected but not counted is missing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from aggregates.base import EventMeta, InvalidCommandError, stamp, stream_id
from events.incidents import HeadcountRecorded


class NobodyToCountError(InvalidCommandError):
    """A headcount is taken where children are in care, or names the children counted."""

    code = "nobody_to_count"
    message = "No child is in care at {place_code} and nobody was counted there."


def headcounts_id(school_id: str, day: date, place_code: str) -> UUID:
    return stream_id("headcounts", school_id, day.isoformat(), place_code)


@dataclass(frozen=True)
class Headcounts:
    """The headcounts taken at one place on one service day."""

    id: UUID
    version: int
    place_code: str
    service_day: date
    last_missing: tuple[str, ...] = ()

    @classmethod
    def at(cls, school_id: str, day: date, place_code: str) -> Headcounts:
        return cls(headcounts_id(school_id, day, place_code), 0, place_code, day)

    def record(self, meta: EventMeta, expected: Iterable[str], present: Iterable[str]) -> list[HeadcountRecorded]:
        """Record a count: the children expected (in care here) against the children counted."""
        wanted, counted = set(expected), set(present)
        if not wanted and not counted:
            raise NobodyToCountError(place_code=self.place_code)
        return [
            HeadcountRecorded(
                **stamp(self.id, self.version, meta),
                place_code=self.place_code,
                service_day=self.service_day.isoformat(),
                expected=sorted(wanted),
                present=sorted(counted),
                missing=sorted(wanted - counted),
                extra=sorted(counted - wanted),
            )
        ]


def evolve(state: Headcounts, event: HeadcountRecorded) -> Headcounts:
    """Apply one event. Never raises, never decides."""
    return replace(state, version=event.originator_version, last_missing=tuple(event.missing))


def project(state: Headcounts | None, events: Iterable[HeadcountRecorded]) -> Headcounts | None:
    for event in events:
        start = Headcounts(event.originator_id, 0, event.place_code, date.fromisoformat(event.service_day))
        state = evolve(state or start, event)
    return state
