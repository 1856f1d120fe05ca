"""Replay from the log: custody as of an instant equals the live custody at that instant, a child's day read from
its own stream equals the live history, and the window around an incident includes both of its ends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from projections.log import EventLog
from replay import state as replay
from replay.incidents import incident_window
from service.application.handoff import Handoff
from service.application.views import custody_view
from tests.support import ACTORS, AFTERNOON, CODES, OTHER_SCHOOL, SCHOOL, Clock, ctx, make_handoff, setup_school

DAY = date(2026, 11, 30)
ZONE = "Asia/Shanghai"
LIVE_FIELDS = (
    "child_id",
    "status",
    "custodian_id",
    "place_code",
    "arrived_guardians",
    "confirmed_guardian_id",
    "released_to",
    "self_released",
    "version",
)


def minute(n: float) -> datetime:
    return AFTERNOON + timedelta(minutes=n)


@dataclass
class Afternoon:
    """A handoff afternoon with the clock moved between steps, and the live custody of C1 after each step."""

    handoff: Handoff
    clock: Clock
    live: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def log(self) -> EventLog:
        return EventLog(self.handoff.recorder, self.handoff.mapper)

    def at(self, n: float, step: str, command: Any) -> None:
        self.clock.now = minute(n)
        command()
        self.live[step] = custody_view(self.handoff.custody(SCHOOL, "C1", DAY))


STORED = {
    "plain": {"PERSISTENCE_MODULE": "eventsourcing.popo"},
    "compressed": {
        "PERSISTENCE_MODULE": "eventsourcing.popo",
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
    },
}
"""Replay must not depend on how events are stored: with the library's compression on, the stored state is not JSON."""


@pytest.fixture(params=sorted(STORED))
def afternoon(request: pytest.FixtureRequest) -> Iterator[Afternoon]:
    """C1: check-in with t1 at +1, transfer to t2 in T2 at +10, G1 at the gate at +20, confirmation at +21, release at
    +25. C2 is checked in at +2, and a child of the other school at +3."""
    clock = Clock()
    handoff = make_handoff(STORED[request.param], clock=clock)
    setup_school(handoff)
    setup_school(handoff, OTHER_SCHOOL)
    day = Afternoon(handoff, clock)
    day.at(1, "checked_in", lambda: handoff.care.check_in(ctx(), "C1", "T1", None, None))
    day.at(2, "c2", lambda: handoff.care.check_in(ctx(), "C2", "T1", None, None))
    day.at(3, "other", lambda: handoff.care.check_in(ctx("other_teacher", school=OTHER_SCHOOL), "C1", "T1", None, None))
    day.at(10, "transferred", lambda: handoff.care.transfer(ctx(), "C1", "t2", "T2"))
    day.at(20, "arrived", lambda: handoff.care.register_arrival(ctx("gate"), "C1", "G1", "pickup_code", CODES["G1"]))
    day.at(21, "confirmed", lambda: handoff.care.confirm(ctx("teacher2"), "C1", "G1", True, True))
    day.at(25, "released", lambda: handoff.care.release(ctx("teacher2"), "C1", "G1"))
    yield day
    handoff.close()


def state_of(day: Afternoon, at: datetime, child: str = "C1") -> dict[str, Any] | None:
    rows = replay.custody_as_of(day.log, SCHOOL, at, ZONE)
    return next((row for row in rows if row["child_id"] == child), None)


def test_before_check_in_the_child_is_not_in_the_state(afternoon: Afternoon) -> None:
    assert replay.custody_as_of(afternoon.log, SCHOOL, minute(0.5), ZONE) == []
    assert state_of(afternoon, minute(1.5), "C2") is None


def test_each_step_shows_as_of_its_instant(afternoon: Afternoon) -> None:
    checked_in = state_of(afternoon, minute(1))  # an event exactly at the instant counts
    assert checked_in is not None
    assert (checked_in["status"], checked_in["custodian_id"], checked_in["place_code"]) == ("in_care", "t1", "T1")
    assert checked_in["last_change"] == minute(1).isoformat()
    transferred = state_of(afternoon, minute(15))
    assert transferred is not None
    assert (transferred["custodian_id"], transferred["place_code"]) == ("t2", "T2")
    assert transferred["last_change"] == minute(10).isoformat()
    released = state_of(afternoon, minute(60))
    assert released is not None
    assert (released["status"], released["custodian_id"], released["released_to"]) == ("released", None, "G1")


@pytest.mark.parametrize("page", [2, 1_000])
def test_the_state_as_of_an_instant_equals_the_live_state_then(
    afternoon: Afternoon, page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay, "PAGE", page)
    steps = {"checked_in": 1, "transferred": 10, "arrived": 20, "confirmed": 21, "released": 25}
    for step, n in steps.items():
        replayed = state_of(afternoon, minute(n + 0.5))
        assert replayed is not None
        assert {k: replayed[k] for k in LIVE_FIELDS} == {k: afternoon.live[step][k] for k in LIVE_FIELDS}, step


def test_only_the_school_and_the_service_day_of_the_instant_count(afternoon: Afternoon) -> None:
    assert [row["child_id"] for row in replay.custody_as_of(afternoon.log, SCHOOL, minute(60), ZONE)] == ["C1", "C2"]
    other = replay.custody_as_of(afternoon.log, OTHER_SCHOOL, minute(60), ZONE)
    assert [(row["child_id"], row["status"]) for row in other] == [("C1", "in_care")]
    next_day = replay.custody_as_of(afternoon.log, SCHOOL, minute(24 * 60), ZONE)
    assert next_day == []


def test_a_stream_is_folded_only_as_a_prefix_when_server_clocks_disagree(afternoon: Afternoon) -> None:
    """A worker whose clock is behind stamps C2's second transfer (+28) earlier than the first (+30). At +29 C2 is
    still as checked in: folding the second transfer without the first would give t1 in T2, a state C2 never had."""
    afternoon.clock.now = minute(30)
    afternoon.handoff.care.transfer(ctx(), "C2", "t2", "T2")
    afternoon.clock.now = minute(28)
    afternoon.handoff.care.transfer(ctx("teacher2"), "C2", "t1", "T2")
    c2 = state_of(afternoon, minute(29), "C2")
    assert c2 is not None
    assert (c2["custodian_id"], c2["place_code"], c2["version"]) == ("t1", "T1", 1)
    later = state_of(afternoon, minute(31), "C2")
    assert later is not None and (later["custodian_id"], later["place_code"]) == ("t1", "T2")


def test_a_naive_instant_is_refused(afternoon: Afternoon) -> None:
    with pytest.raises(ValueError, match="time zone"):
        replay.custody_as_of(afternoon.log, SCHOOL, datetime(2026, 11, 30, 16, 45), ZONE)


def test_child_day_from_the_stream_equals_the_live_history(afternoon: Afternoon) -> None:
    live = afternoon.handoff.care.child_day(ACTORS["duty_leader"], SCHOOL, "C1", DAY)["history"]
    replayed = replay.child_day(afternoon.log, SCHOOL, "C1", DAY)
    assert replayed == live
    assert [e["type"] for e in replayed] == [
        "ChildCheckedIn",
        "ChildTransferred",
        "GuardianArrived",
        "GuardianAndChildConfirmed",
        "ChildReleased",
    ]
    assert replay.child_day(afternoon.log, SCHOOL, "C1", DAY + timedelta(days=1)) == []


def test_the_window_includes_both_ends_in_log_order_with_the_custody_chain(afternoon: Afternoon) -> None:
    events = replay.window(afternoon.log, SCHOOL, minute(10), 9, 10)  # [+1, +20], both ends included
    assert [(e["child_id"], e["type"]) for e in events] == [
        ("C1", "ChildCheckedIn"),
        ("C2", "ChildCheckedIn"),
        ("C1", "ChildTransferred"),
        ("C1", "GuardianArrived"),
    ]
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
    assert [e["chain"] for e in events] == [
        {"from": None, "to": "t1"},
        {"from": None, "to": "t1"},
        {"from": "t1", "to": "t2"},
        None,
    ]


def test_the_window_for_one_child_ends_at_the_release(afternoon: Afternoon) -> None:
    events = replay.window(afternoon.log, SCHOOL, minute(25), 4, 0, child_id="C1")
    assert [e["type"] for e in events] == ["GuardianAndChildConfirmed", "ChildReleased"]
    assert events[-1]["chain"] == {"from": "t2", "to": "G1"}
    assert replay.window(afternoon.log, SCHOOL, minute(25), 4, 0, child_id="C2") == []


def test_the_window_around_an_incident_has_its_records_the_custody_at_opening_and_the_chain(
    afternoon: Afternoon,
) -> None:
    """A missing-child incident for C1 at +12 (with t2 in T2 since +10), C2 linked at +15, resolved at +22."""
    h, clock = afternoon.handoff, afternoon.clock
    clock.now = minute(12)
    h.incidents.open_incident(ctx("teacher2"), "missing_child", ["C1"], ["t2"], "Not at T2", "m-1")
    clock.now = minute(15)
    h.incidents.link_to_incident(ctx("duty_leader"), "m-1", ["C2"], [])
    clock.now = minute(22)
    h.incidents.resolve_incident(ctx("duty_leader"), "m-1", "Found at the gate with G1")
    window = incident_window(afternoon.log, SCHOOL, "m-1", before=5, after=1)
    assert window is not None
    assert (window["from"], window["to"]) == (minute(7), minute(23))
    assert window["incident"]["children"] == ["C1", "C2"]
    assert window["incident"]["outcome"] == "Found at the gate with G1"
    at_opening = {
        row["child_id"]: (row["status"], row["custodian_id"], row["place_code"]) for row in window["at_opening"]
    }
    assert at_opening == {"C1": ("in_care", "t2", "T2"), "C2": ("in_care", "t1", "T1")}
    assert [(link["type"], link["from"], link["to"]) for link in window["custody_chain"]["C1"]] == [
        ("ChildCheckedIn", None, "t1"),
        ("ChildTransferred", "t1", "t2"),
    ]  # the release at +25 is after the window's end
    assert [(e["record"], e["type"], e["child_id"]) for e in window["events"]] == [
        ("custody", "ChildTransferred", "C1"),
        ("incident", "IncidentOpened", None),
        ("incident", "IncidentLinked", None),
        ("custody", "GuardianArrived", "C1"),
        ("custody", "GuardianAndChildConfirmed", "C1"),
        ("incident", "IncidentResolved", None),
    ]
    times = [e["server_time"] for e in window["events"]]
    assert times == sorted(times)
    assert incident_window(afternoon.log, SCHOOL, "nope", 5, 5) is None
    assert incident_window(afternoon.log, OTHER_SCHOOL, "m-1", 5, 5) is None


def test_a_later_day_is_replayed_from_its_own_part_of_the_log(afternoon: Afternoon) -> None:
    """The next day's scan starts after the first day's events (found by bisecting the log) and gives the same state."""
    h, clock = afternoon.handoff, afternoon.clock
    first_day_head = afternoon.log.head()
    clock.now = minute(24 * 60)  # the next afternoon
    h.care.check_in(ctx(), "C1", "T1", None, None)
    clock.now = minute(24 * 60 + 5)
    h.care.transfer(ctx(), "C1", "t2", "T2")
    midnight = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), AFTERNOON.tzinfo)
    start = replay.position_before(afternoon.log, midnight, afternoon.log.head())
    assert 0 < start <= first_day_head  # the first afternoon (08:30 UTC) is more than the margin before midnight
    events_before = [n for n in afternoon.log.page(0, 10_000) if n.id <= start]
    assert all(afternoon.log.decode(n).timestamp < minute(24 * 60) for n in events_before)
    rows = replay.custody_as_of(afternoon.log, SCHOOL, minute(24 * 60 + 6), ZONE)
    assert [(r["child_id"], r["custodian_id"], r["version"]) for r in rows] == [("C1", "t2", 2)]
    earlier = replay.custody_as_of(afternoon.log, SCHOOL, minute(24 * 60 + 1), ZONE)
    assert [(r["child_id"], r["custodian_id"]) for r in earlier] == [("C1", "t1")]
