"""Custody as of an instant, from the event log itself (never from the views): what investigators replay.

Server time (`event.timestamp`) is the clock of record. The log is in commit order, and server times of different
workers agree only approximately: within CLOCK_MARGIN. So a scan for the events of a span of time starts at the last
position whose event is more than the margin before the span (found by bisecting the log), reads every event of
the school from there, filters by server time, and stops only at an event more than the margin after the span. It
reads the day's events up to the instant, however long the log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from eventsourcing.utils import get_topic
from typing_extensions import TypedDict  # pydantic reads it as an API schema too (service.http.schemas)

from aggregates.custody import Custody, changes, custody_id
from events.custody import ChildCheckedIn, ChildReleased, ChildTransferred, CustodyEvent, CustodyState
from events.envelope import HandoffEvent
from projections.log import EventLog
from replay.shapes import typed_dict_of

if TYPE_CHECKING:
    from replay.days import DayCache  # which reads the log as this module does

CUSTODY_TOPICS = tuple(sorted(get_topic(kind) for kind in CustodyEvent.__subclasses__()))
"""Every custody event type (a new one is read without a change here), so replay folds what the live stream folds."""
ENVELOPE = frozenset(field.name for field in dataclasses.fields(CustodyEvent))
"""Fields every custody event carries; `details` holds the rest, the event's own."""
PAGE = 5_000
CLOCK_MARGIN = timedelta(minutes=10)
"""How far apart the server clocks of the workers that write the log may be: an event committed after another is
never more than this earlier by server time."""

Folded = dict[str, tuple[SimpleNamespace, datetime]]
"""Per child: the custody so far (a mutable copy of Custody) and the server time of the last event folded in."""


def custody_as_of(
    events: EventLog, school_id: str, at: datetime, time_zone: str, days: DayCache | None = None
) -> list[CustodyRow]:
    """Every child of the school with a custody event on the service day of `at`, as they stood at `at` (inclusive);
    with `days`, the day's events already read from the log are taken from that memo (the same events)."""
    zone = ZoneInfo(time_zone)
    day = _aware(at).astimezone(zone).date()
    folded: Folded = {}
    day_start = datetime.combine(day, time(0), zone)
    if days is None:
        read: Iterable[tuple[int, CustodyEvent]] = school_custody_events(events, school_id, day_start, at)
    else:
        read = days.events(events, school_id, day_start, at)
    service_day = day.isoformat()
    for _, event in read:
        if event.service_day == service_day and event.timestamp <= at:
            fold(folded, event)
    return [state_row(*folded[child]) for child in sorted(folded)]


def child_day(events: EventLog, school_id: str, child_id: str, day: date) -> list[EventEntry]:
    """A child's custody events of one service day, in order, read from the child's own stream."""
    stored = events.recorder.select_events(custody_id(school_id, child_id, day))
    return [entry(cast(CustodyEvent, events.mapper.to_domain_event(row))) for row in stored]


def window(
    events: EventLog,
    school_id: str,
    at: datetime,
    minutes_before: int,
    minutes_after: int,
    child_id: str | None = None,
) -> list[dict[str, Any]]:
    """The school's custody events with server time in [at - before, at + after] (both ends included), in log order."""
    start = _aware(at) - timedelta(minutes=minutes_before)
    end = at + timedelta(minutes=minutes_after)
    return [
        {"position": position, "child_id": e.child_id, "service_day": e.service_day, **entry(e), "chain": chain(e)}
        for position, e in school_custody_events(events, school_id, start, end)
        if start <= e.timestamp <= end and child_id in (None, e.child_id)
    ]


def school_custody_events(
    events: EventLog, school_id: str, start: datetime | None = None, end: datetime | None = None
) -> Iterator[tuple[int, CustodyEvent]]:
    """Every custody event of one school with its log position, in log order, up to the head at the start; with
    `start` and `end`, at least every one whose server time falls between them (callers filter by time)."""
    return school_events(events, school_id, CUSTODY_TOPICS, start, end)


def school_events(
    events: EventLog,
    school_id: str,
    topics: Sequence[str],
    start: datetime | None = None,
    end: datetime | None = None,
) -> Iterator[tuple[int, Any]]:
    """Every event of these topics of one school with its log position, in log order, up to the head at the start;
    with `start` and `end`, the part of the log that can hold events between those server times."""
    head, marker = events.head(), school_id.encode() if stored_as_json(events) else None
    after = position_before(events, start, head) if start is not None else 0
    stop_after = end + CLOCK_MARGIN if end is not None else None
    while True:
        page = events.page(after, PAGE, stop=head, topics=topics)
        for notification in page:
            if marker is not None and marker not in notification.state:  # skips decoding other schools' events
                continue
            event = events.decode(notification)
            if stop_after is not None and event.timestamp > stop_after:
                return
            if event.school_id == school_id:
                yield notification.id, event
        if len(page) < PAGE:
            return
        after = page[-1].id


def stored_as_json(events: EventLog) -> bool:
    """Whether stored states are the events' plain JSON, in which the school's code appears verbatim; compressed
    or encrypted, every event must be decoded to learn its school."""
    return events.mapper.compressor is None and events.mapper.cipher is None


def position_before(events: EventLog, start: datetime, head: int) -> int:
    """A position at or before which every event is earlier than `start` by server time (0 if there is none):
    the last one found by bisecting the log whose event is more than CLOCK_MARGIN before `start`."""
    low, high, limit = 0, head, start - CLOCK_MARGIN
    while low < high:
        middle = (low + high + 1) // 2
        found = events.page(middle - 1, 1, stop=head)
        if found and events.decode(found[0]).timestamp < limit:
            low = found[0].id
        else:
            high = middle - 1
    return low


class EventEntry(TypedDict):
    """One stored event as investigators and histories read it."""

    type: str
    version: int
    server_time: str
    device_time: str
    actor_id: str
    actor_role: str
    device_id: str
    details: dict[str, Any]


CustodyFields = typed_dict_of("CustodyFields", CustodyState, child_id=str, version=int)
"""A child's custody as people read it: the child, the version of its custody stream, and the custody a correction
restores (events.custody.CustodyState, declared there once)."""


class CustodyRow(CustodyFields):
    """A child's custody as of an instant, with the server time of its last change."""

    last_change: str | None


def entry(event: HandoffEvent) -> EventEntry:
    """One event as investigators read it: what happened, who did it, on which device, by both clocks."""
    return {
        "type": type(event).__name__,
        "version": event.originator_version,
        "server_time": event.timestamp.isoformat(),
        "device_time": event.device_time.isoformat(),
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "device_id": event.device_id,
        "details": {f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name not in ENVELOPE},
    }


def chain(event: CustodyEvent) -> dict[str, str | None] | None:
    """Who had the child before and after the event, for the events that move custody; None for the others."""
    match event:
        case ChildCheckedIn():
            return {"from": event.handed_over_by, "to": event.custodian_id}
        case ChildTransferred():
            return {"from": event.from_custodian_id, "to": event.to_custodian_id}
        case ChildReleased():
            return {"from": event.from_custodian_id, "to": event.guardian_id}
    return None


def fold(folded: Folded, event: CustodyEvent) -> None:
    """Apply the event only if it is the next of the child's stream: a stream is folded as a prefix, so a server
    clock slightly behind another's never produces a state the child never had. The state is a mutable copy of
    the child's Custody, changed in place by the aggregate's own `changes` (no new object per event)."""
    found = folded.get(event.child_id)
    if found is None:
        if event.originator_version != 1:
            return
        day = date.fromisoformat(event.service_day)
        state = SimpleNamespace(**vars(Custody(event.originator_id, 0, event.school_id, event.child_id, day)))
    else:
        state = found[0]
        if event.originator_version != state.version + 1:
            return
    copy = cast(Custody, state)  # a mutable copy of Custody, with its fields: `changes` reads nothing else
    vars(state).update(changes(copy, event), version=event.originator_version)
    folded[event.child_id] = (state, event.timestamp)


def custody_fields(state: Custody | SimpleNamespace) -> CustodyFields:
    """A child's custody as people read it: status, who has them and where, who is at the gate, how they left."""
    return {
        "child_id": state.child_id,
        "version": state.version,
        "status": state.status,
        "custodian_id": state.custodian_id,
        "place_code": state.place_code,
        "arrived_guardians": sorted(state.arrived_guardians),
        "confirmed_guardian_id": state.confirmed_guardian_id,
        "released_to": state.released_to,
        "self_released": state.self_released,
    }


def state_row(state: Custody | SimpleNamespace, last_change: datetime | None) -> CustodyRow:
    return {**custody_fields(state), "last_change": last_change.isoformat() if last_change else None}


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("the instant needs a time zone offset (server time is compared as an absolute instant)")
    return at
