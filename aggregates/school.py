"""A school: district, time zone (which fixes the service day) and the places children can be in care."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregates.base import EventMeta, InvalidCommandError, NotFoundError, RuleBrokenError, stamp, stream_id
from events.envelope import EventFields, HandoffEvent
from events.school import (
    PlaceAdded,
    ReleaseBatchAdded,
    SchoolRegistered,
    SessionScheduled,
    TermScheduled,
)

PLACE_KINDS = ("temporary_class", "classroom", "club_room", "playground", "gate", "release_point")


class SchoolNotFoundError(NotFoundError):
    """The school is not registered."""

    code = "school_not_found"
    message = "This school is not registered in Handoff."


class SchoolInOtherDistrictError(InvalidCommandError):
    """A school's staff belong to the school's own district."""

    code = "school_in_other_district"
    message = "This school is not in district {district_id}."


class SchoolAlreadyRegisteredError(RuleBrokenError):
    """A school is registered once."""

    code = "school_already_registered"
    message = "This school is already registered."


class UnknownTimeZoneError(InvalidCommandError):
    """The time zone is not an IANA time zone."""

    code = "unknown_time_zone"
    message = "Unknown time zone: {time_zone}."


class PlaceNotFoundError(NotFoundError):
    """The place is not one of the school's temporary classes or venues."""

    code = "place_not_found"
    message = "There is no temporary class or venue with code {place_code} at this school."


class PlaceAlreadyExistsError(RuleBrokenError):
    """Place codes are unique within a school."""

    code = "place_already_exists"
    message = "A place with code {place_code} already exists at this school."


class NotATemporaryClassError(InvalidCommandError):
    """Children are arranged into temporary classes, not other places."""

    code = "not_a_temporary_class"
    message = "{place} is not a temporary class."


class NoTermError(RuleBrokenError):
    """After-school service runs only within a term."""

    code = "no_term"
    message = "There is no after-school service term on {day}."


class TermNotFoundError(NotFoundError):
    """The term is not scheduled at this school."""

    code = "term_not_found"
    message = "There is no term {term_id} at this school."


class BatchNotFoundError(NotFoundError):
    """The release batch is not one of the school's."""

    code = "batch_not_found"
    message = "There is no release batch {batch} at this school."


class BadPlanError(InvalidCommandError):
    """Plans must make sense: terms end after they start, sessions end after they start, codes are unique."""

    code = "bad_plan"
    message = "{problem}"


SEASONS = ("summer_autumn", "winter_spring")
LATE_PICKUP_GRACE = timedelta(minutes=10)
"""How long after a child's release batch ends before the child counts as picked up late."""


def school_id_for(school_code: str) -> UUID:
    return stream_id("school", school_code)


@dataclass(frozen=True)
class Place:
    code: str
    kind: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Term:
    term_id: str
    starts_on: date
    ends_on: date
    places: int


@dataclass(frozen=True)
class ReleaseBatch:
    code: str
    label_zh: str
    label_en: str
    ends_at: time


@dataclass(frozen=True)
class Session:
    season: str
    name: str
    weekdays: tuple[str, ...]
    starts_at: time
    ends_at: time


@dataclass(frozen=True)
class School:
    """A registered school and its places."""

    id: UUID
    version: int
    school_id: str
    name: str = ""
    district_id: str = ""
    time_zone: str = "Asia/Shanghai"
    service_ends_at: time = time(17, 30)
    places: dict[str, Place] = field(default_factory=dict)
    terms: dict[str, Term] = field(default_factory=dict)
    batches: dict[str, ReleaseBatch] = field(default_factory=dict)
    sessions: tuple[Session, ...] = ()

    @classmethod
    def unregistered(cls, school_id: str) -> School:
        return cls(id=school_id_for(school_id), version=0, school_id=school_id)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def local_now(self, now: datetime) -> datetime:
        """The school's wall-clock time at a server instant."""
        return now.astimezone(self.zone)

    def service_day(self, now: datetime) -> date:
        """The school's local date at a server instant: a day never splits at UTC midnight."""
        return self.local_now(now).date()

    def term_on(self, day: date) -> Term:
        """The term a service day falls in."""
        for term in self.terms.values():
            if term.starts_on <= day <= term.ends_on:
                return term
        raise NoTermError(day=day.isoformat())

    def require_term(self, term_id: str) -> Term:
        try:
            return self.terms[term_id]
        except KeyError:
            raise TermNotFoundError(term_id=term_id) from None

    def require_batch(self, code: str) -> ReleaseBatch:
        try:
            return self.batches[code]
        except KeyError:
            raise BatchNotFoundError(batch=code) from None

    def require_place(self, place_code: str) -> Place:
        try:
            return self.places[place_code]
        except KeyError:
            raise PlaceNotFoundError(place_code=place_code) from None

    def require_temporary_class(self, place_code: str) -> Place:
        """The place, if it is one of the school's temporary classes (children are arranged only into those)."""
        place = self.require_place(place_code)
        if place.kind != "temporary_class":
            raise NotATemporaryClassError(place=place_code)
        return place

    def is_late_pickup(self, batch_code: str, now: datetime) -> bool:
        """The one late-pickup rule: whether a child of that release batch, still in care at the server instant
        `now`, is picked up late: the batch ended today more than the grace period ago. A batch the school does not
        know is never late. The late-pickup incidents, the regulator's count of them and the board's late marks all
        follow it."""
        batch = self.batches.get(batch_code)
        if batch is None:
            return False
        return now >= datetime.combine(self.service_day(now), batch.ends_at, tzinfo=self.zone) + LATE_PICKUP_GRACE

    # Decisions

    def register(
        self, meta: EventMeta, name: str, district_id: str, time_zone: str, service_ends_at: time = time(17, 30)
    ) -> list[HandoffEvent]:
        if self.version:
            raise SchoolAlreadyRegisteredError
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError, IsADirectoryError):  # a folder ("Asia") when tzdata is installed
            raise UnknownTimeZoneError(time_zone=time_zone) from None
        return [
            SchoolRegistered(
                **self._stamp(meta),
                name=name,
                district_id=district_id,
                time_zone=time_zone,
                service_ends_at=service_ends_at.isoformat(timespec="seconds"),
            )
        ]

    def add_place(
        self, meta: EventMeta, place_code: str, kind: str, label_zh: str, label_en: str
    ) -> list[HandoffEvent]:
        if place_code in self.places:
            raise PlaceAlreadyExistsError(place_code=place_code)
        if kind not in PLACE_KINDS:
            raise InvalidCommandError(f"Unknown kind of place: {kind}.")
        return [PlaceAdded(**self._stamp(meta), place_code=place_code, kind=kind, label_zh=label_zh, label_en=label_en)]

    def schedule_term(
        self, meta: EventMeta, term_id: str, starts_on: date, ends_on: date, places: int
    ) -> list[HandoffEvent]:
        if term_id in self.terms or ends_on < starts_on or places < 1:
            raise BadPlanError(problem="A term needs a new id, an end after its start, and at least one place.")
        if any(t.starts_on <= ends_on and starts_on <= t.ends_on for t in self.terms.values()):
            raise BadPlanError(problem="Terms must not overlap.")
        return [
            TermScheduled(
                **self._stamp(meta),
                term_id=term_id,
                starts_on=starts_on.isoformat(),
                ends_on=ends_on.isoformat(),
                places=places,
            )
        ]

    def add_batch(self, meta: EventMeta, code: str, label_zh: str, label_en: str, ends_at: time) -> list[HandoffEvent]:
        if code in self.batches:
            raise BadPlanError(problem=f"Release batch {code} already exists.")
        return [
            ReleaseBatchAdded(
                **self._stamp(meta),
                batch_code=code,
                label_zh=label_zh,
                label_en=label_en,
                ends_at=ends_at.isoformat(timespec="seconds"),
            )
        ]

    def schedule_session(
        self, meta: EventMeta, season: str, name: str, weekdays: list[str], starts_at: time, ends_at: time
    ) -> list[HandoffEvent]:
        if season not in SEASONS or ends_at <= starts_at or not weekdays:
            raise BadPlanError(
                problem="A session needs a season (summer_autumn or winter_spring), weekdays, "
                "and an end after its start."
            )
        return [
            SessionScheduled(
                **self._stamp(meta),
                season=season,
                name=name,
                weekdays=list(weekdays),
                starts_at=starts_at.isoformat(timespec="seconds"),
                ends_at=ends_at.isoformat(timespec="seconds"),
            )
        ]

    def _stamp(self, meta: EventMeta) -> EventFields[HandoffEvent]:
        return {**stamp(self.id, self.version, meta)}


def evolve(state: School, event: HandoffEvent) -> School:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    match event:
        case SchoolRegistered():
            return replace(
                state,
                name=event.name,
                district_id=event.district_id,
                time_zone=event.time_zone,
                service_ends_at=time.fromisoformat(event.service_ends_at),
            )
        case TermScheduled():
            term = Term(
                event.term_id, date.fromisoformat(event.starts_on), date.fromisoformat(event.ends_on), event.places
            )
            return replace(state, terms={**state.terms, term.term_id: term})
        case ReleaseBatchAdded():
            batch = ReleaseBatch(event.batch_code, event.label_zh, event.label_en, time.fromisoformat(event.ends_at))
            return replace(state, batches={**state.batches, batch.code: batch})
        case SessionScheduled():
            session = Session(
                event.season,
                event.name,
                tuple(event.weekdays),
                time.fromisoformat(event.starts_at),
                time.fromisoformat(event.ends_at),
            )
            return replace(state, sessions=(*state.sessions, session))
        case PlaceAdded():
            place = Place(event.place_code, event.kind, event.label_zh, event.label_en)
            return replace(state, places={**state.places, place.code: place})
    return state


def project(state: School | None, events: Iterable[HandoffEvent]) -> School | None:
    for event in events:
        state = evolve(state or School.unregistered(event.school_id), event)
    return state
