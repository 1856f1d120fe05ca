"""Every child who applied for a term (愿留尽留: everyone who applied is seen), and who holds one of its places."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from uuid import UUID

from aggregates.base import EventMeta, RuleBrokenError, stamp, stream_id
from events.envelope import HandoffEvent
from events.planning import ApplicantListed, PlaceGivenUp, PlaceTaken


class NoPlacesLeftError(RuleBrokenError):
    """The school approves no more children than the term has places."""

    code = "no_places_left"
    message = "All {places} places of this term are taken."


@dataclass(frozen=True)
class TermApplicants:
    """Every child who applied for a term, and who holds one of its places."""

    id: UUID
    version: int
    term_id: str
    applicants: tuple[str, ...] = ()
    placed: frozenset[str] = frozenset()

    @classmethod
    def of(cls, school_id: str, term_id: str) -> TermApplicants:
        return cls(stream_id("term-applicants", school_id, term_id), 0, term_id)

    def list_applicant(self, meta: EventMeta, child_id: str) -> list[HandoffEvent]:
        if child_id in self.applicants:
            return []
        return [ApplicantListed(**stamp(self.id, self.version, meta), term_id=self.term_id, child_id=child_id)]

    def take_place(self, meta: EventMeta, child_id: str, places: int) -> list[HandoffEvent]:
        if len(self.placed - {child_id}) >= places:
            raise NoPlacesLeftError(places=places)
        return [PlaceTaken(**stamp(self.id, self.version, meta), term_id=self.term_id, child_id=child_id)]

    def give_up_place(self, meta: EventMeta, child_id: str) -> list[HandoffEvent]:
        if child_id not in self.placed:
            return []
        return [PlaceGivenUp(**stamp(self.id, self.version, meta), term_id=self.term_id, child_id=child_id)]


def evolve(state: TermApplicants, event: HandoffEvent) -> TermApplicants:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    match event:
        case ApplicantListed():
            return replace(state, applicants=(*state.applicants, event.child_id))
        case PlaceTaken():
            return replace(state, placed=state.placed | {event.child_id})
        case PlaceGivenUp():
            return replace(state, placed=state.placed - {event.child_id})
    return state


def project(state: TermApplicants | None, events: Iterable[HandoffEvent]) -> TermApplicants | None:
    for event in events:
        state = evolve(state or TermApplicants(event.originator_id, 0, getattr(event, "term_id", "")), event)
    return state
