"""Stored events outlive their classes: a row in an event's old shape is upcast when read, and a row stored under
the topic of a class that has since moved is read as that class. The old rows are written here as they were."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from aggregates import duty_rounds as duty_rules
from aggregates.base import EventMeta
from aggregates.headcounts import headcounts_id
from aggregates.roster import RosterEntry
from events.duty_rounds import DutyRoundRecorded
from events.envelope import HandoffEvent
from events.incidents import HeadcountRecorded
from service.application.handoff import Handoff
from tests.support import AFTERNOON, SCHOOL, make_handoff

DAY = date(2026, 11, 30)
ENVELOPE = {
    "timestamp": AFTERNOON,
    "school_id": SCHOOL,
    "actor_id": "d1",
    "actor_role": "duty_leader",
    "device_id": "tablet-1",
    "idempotency_key": "k-1",
    "device_time": AFTERNOON,
}


@pytest.fixture(params=["popo", "sqlite"])
def handoff(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Handoff]:
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if request.param == "sqlite":
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}
    h = make_handoff(env)
    yield h
    h.close()


def store_as_it_was(h: Handoff, event: HandoffEvent, topic: str | None = None, drop: tuple[str, ...] = ()) -> None:
    """Write the event as an older release would have: without the fields in `drop` and without a class version."""
    stored = h.mapper.to_stored_event(event)
    state = h.mapper.transcoder.decode(stored.state)
    for name in (*drop, "class_version"):
        state.pop(name, None)
    encoded = h.mapper.transcoder.encode(state)
    old = StoredEvent(stored.originator_id, stored.originator_version, topic or stored.topic, encoded)
    h.recorder.insert_events([old])


def headcount(place: str, expected: list[str], present: list[str]) -> HeadcountRecorded:
    stream = headcounts_id(SCHOOL, DAY, place)
    missing = sorted(set(expected) - set(present))
    extra = sorted(set(present) - set(expected))
    fields = {"place_code": place, "service_day": DAY.isoformat(), "expected": expected, "present": present}
    return HeadcountRecorded(
        originator_id=stream, originator_version=1, **ENVELOPE, **fields, missing=missing, extra=extra
    )


def test_a_headcount_stored_in_its_first_shape_is_read_with_what_it_lacked(handoff: Handoff) -> None:
    store_as_it_was(handoff, headcount("T1", ["C1", "C2", "C3"], ["C2", "C4"]), drop=("missing", "extra"))
    (read,) = handoff.events.get(headcounts_id(SCHOOL, DAY, "T1"))
    assert isinstance(read, HeadcountRecorded)
    assert (read.missing, read.extra) == (["C1", "C3"], ["C4"])
    assert handoff.headcounts.headcounts(SCHOOL, DAY, "T1").last_missing == ("C1", "C3")


def test_a_headcount_stored_before_class_versions_keeps_its_lists(handoff: Handoff) -> None:
    store_as_it_was(handoff, headcount("T2", ["C1"], []))
    (read,) = handoff.events.get(headcounts_id(SCHOOL, DAY, "T2"))
    assert (read.missing, read.extra) == (["C1"], [])


def test_a_new_headcount_is_stored_as_version_2(handoff: Handoff) -> None:
    stored = handoff.mapper.to_stored_event(headcount("T1", ["C1"], []))
    assert json.loads(stored.state)["class_version"] == 2


def test_a_duty_round_stored_under_its_old_topic_is_read_as_the_moved_class(handoff: Handoff) -> None:
    stream = duty_rules.duty_rounds_id(SCHOOL, DAY)
    fields = {"service_day": DAY.isoformat(), "place_code": "T1", "findings": "all quiet", "all_well": True}
    event = DutyRoundRecorded(originator_id=stream, originator_version=1, **ENVELOPE, **fields)
    store_as_it_was(handoff, event, topic="events.incidents:DutyRoundRecorded")
    (stored,) = handoff.recorder.select_events(stream)
    assert stored.topic == "events.incidents:DutyRoundRecorded"
    (read,) = handoff.events.get(stream)
    assert isinstance(read, DutyRoundRecorded) and read.findings == "all quiet"
    rounds = duty_rules.project(None, [read])
    assert rounds is not None and rounds.inspected == ("T1",)
    assert isinstance(stream, UUID)


def test_a_roster_entry_stored_before_enrolment_dates_were_kept_has_no_dates(handoff: Handoff) -> None:
    entry = RosterEntry.absent(SCHOOL, "C9")
    meta = EventMeta(**ENVELOPE)  # type: ignore[arg-type]
    (added,) = entry.add(meta, "3-1", 3, None, "", (date(2026, 12, 7), None))
    store_as_it_was(handoff, added, drop=("starts_on", "ends_on"))
    read = handoff.roster_entry(SCHOOL, "C9")
    assert (read.starts_on, read.ends_on, read.in_records_on(date(2026, 11, 30))) == (None, None, True)
