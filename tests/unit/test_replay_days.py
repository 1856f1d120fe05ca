"""The memo of a school day's custody events (replay.days) gives exactly what a fresh scan of the log gives, for any
afternoon of commands stamped by workers whose clocks disagree within the margin, asked about at any instant while
the log grows, and whatever the page size of the reads."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aggregates.base import DomainError
from projections.log import EventLog
from replay import state as replay
from replay.days import DayCache
from service.application.handoff import Handoff
from tests.support import AFTERNOON, CODES, OTHER_SCHOOL, SCHOOL, Clock, ctx, make_handoff, setup_school

ZONE = "Asia/Shanghai"
Command = Callable[[Handoff], Any]
COMMANDS: list[Command] = [
    lambda h: h.care.check_in(ctx(), "C1", "T1", None, None),
    lambda h: h.care.check_in(ctx(), "C2", "T1", None, None),
    lambda h: h.care.check_in(ctx("other_teacher", school=OTHER_SCHOOL), "C1", "T1", None, None),
    lambda h: h.care.transfer(ctx(), "C1", "t2", "T2"),
    lambda h: h.care.transfer(ctx("teacher2"), "C2", "t1", "T2"),
    lambda h: h.care.register_arrival(ctx("gate"), "C1", "G1", "pickup_code", CODES["G1"]),
    lambda h: h.care.confirm(ctx("teacher2"), "C1", "G1", True, True),
    lambda h: h.care.release(ctx("teacher2"), "C1", "G1"),
    lambda h: h.care.release(ctx(), "C2", None),
]
MINUTES = st.integers(-9, 41).map(lambda m: 24 * 60 if m == 41 else m)  # a clock 9 minutes behind; the next day
ASK = st.none() | st.integers(-30, 61).map(lambda m: -24 * 60 if m == 61 else m)  # after the command, about then
STEPS = st.lists(st.tuples(MINUTES, ASK, st.sampled_from([SCHOOL, OTHER_SCHOOL])), max_size=2 * len(COMMANDS))


@pytest.mark.parametrize("page", [2, 5_000])
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
@example(steps=[(10, -5, SCHOOL), (-9, -9, SCHOOL)])  # C2 checked in by a clock 9 minutes behind, after a question
def test_the_memo_of_a_day_gives_what_a_fresh_scan_gives(
    page: int, monkeypatch: pytest.MonkeyPatch, steps: list[tuple[int, int | None, str]]
) -> None:
    monkeypatch.setattr(replay, "PAGE", page)
    clock = Clock()
    handoff = make_handoff(clock=clock)
    setup_school(handoff)
    setup_school(handoff, OTHER_SCHOOL)
    log, days, latest = EventLog(handoff.recorder, handoff.mapper), DayCache(), AFTERNOON
    for n, (minutes, ask, school) in enumerate(steps + [(0, 0, SCHOOL), (0, 0, OTHER_SCHOOL)]):
        clock.now = latest + timedelta(minutes=minutes)
        latest = max(latest, clock.now)
        with contextlib.suppress(DomainError):  # the afternoon in order, twice (a day later, most are refused)
            COMMANDS[n % len(COMMANDS)](handoff)
        if ask is not None:
            at = latest + timedelta(minutes=ask)
            assert replay.custody_as_of(log, school, at, ZONE, days) == replay.custody_as_of(log, school, at, ZONE)
    handoff.close()


def test_a_day_asked_again_reads_only_what_was_appended_since() -> None:
    clock = Clock()
    handoff = make_handoff(clock=clock)
    setup_school(handoff)
    log, days = CountingLog(handoff), DayCache()
    clock.now = AFTERNOON + timedelta(minutes=1)
    handoff.care.check_in(ctx(), "C1", "T1", None, None)
    assert [row["status"] for row in replay.custody_as_of(log, SCHOOL, clock.now, ZONE, days)] == ["in_care"]
    log.read = 0
    assert replay.custody_as_of(log, SCHOOL, clock.now, ZONE, days)[0]["custodian_id"] == "t1"
    assert log.read == 0
    clock.now += timedelta(minutes=5)
    handoff.care.transfer(ctx(), "C1", "t2", "T2")
    assert replay.custody_as_of(log, SCHOOL, clock.now, ZONE, days)[0]["custodian_id"] == "t2"
    assert log.read == 1
    handoff.close()


def test_the_oldest_days_are_forgotten_past_the_limit() -> None:
    clock = Clock()
    handoff = make_handoff(clock=clock)
    setup_school(handoff)
    log, days = EventLog(handoff.recorder, handoff.mapper), DayCache(max_events=1)
    for n in range(3):
        clock.now = AFTERNOON + timedelta(days=n)
        handoff.care.check_in(ctx(), "C1", "T1", None, None)
        assert len(replay.custody_as_of(log, SCHOOL, clock.now, ZONE, days)) == 1
    assert len(days._days) == 1
    handoff.close()


class CountingLog(EventLog):
    """The application's log, counting the events read from it."""

    def __init__(self, handoff: Handoff) -> None:
        super().__init__(handoff.recorder, handoff.mapper)
        self.read = 0

    def page(self, after: int, limit: int, stop: int | None = None, topics: Sequence[str] = ()) -> Any:
        found = super().page(after, limit, stop, topics)
        self.read += len(found)
        return found
