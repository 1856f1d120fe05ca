"""Every view holds any value the log can hold, one school's bad event never stops another school's views (it is
parked, shown and counted), and /health calls a view stuck when its position stands still (#13 item 1)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from events.custody import ChildMarkedAbsent
from projections import timeline
from projections.base import ReadModel
from projections.registry import READ_MODELS
from projections.supervisor import Supervisor
from service.application.handoff import Handoff
from service.http.app import create_app
from service.infra.event_log import event_log
from service.infra.settings import postgres_env
from service.reads.readside import ReadSide
from service.runtime import projector_supervisor
from tests.api.conftest import make_tablet
from tests.integration.test_projector import assert_views_equal_rebuild, caught_up, wait_until
from tests.support import OTHER_SCHOOL, SCHOOL, Clock, ctx, make_handoff, setup_school

FAR = timezone(timedelta(hours=14))
BEHIND = timezone(timedelta(hours=-14))


def at(device_time: datetime, actor: str = "teacher", **body: Any) -> Any:
    """A command as a tablet whose clock is set to `device_time` sent it, past the HTTP boundary (as events
    recorded before the boundary refused them were)."""
    return dataclasses.replace(ctx(actor, **body), device_time=device_time)


@pytest.fixture
def both_schools(postgres_handoff: Handoff) -> Handoff:
    setup_school(postgres_handoff, OTHER_SCHOOL)
    return postgres_handoff


def test_every_view_stores_extreme_instants_and_nul_bytes_and_equals_a_rebuild(
    both_schools: Handoff, fresh_postgres_url: str
) -> None:
    handoff = both_schools
    handoff.care.mark_absent(at(datetime(9999, 12, 31, 23, 59, 59, tzinfo=FAR)), "C1", "ill\x00ness")
    handoff.care.check_in(at(datetime(2100, 1, 1, tzinfo=timezone.utc)), "C2", "T1", None, None)
    handoff.care.check_in(
        at(datetime(1, 1, 1, tzinfo=FAR), actor="other_teacher", school=OTHER_SCHOOL), "C1", "T1", None, None
    )
    handoff.care.mark_absent(
        at(datetime(9999, 12, 31, 23, 59, 59, tzinfo=BEHIND), actor="other_teacher", school=OTHER_SCHOOL), "C2", "\x00"
    )
    supervisor = projector_supervisor(handoff, fresh_postgres_url)
    supervisor.start()
    read = ReadSide(fresh_postgres_url, event_log(handoff), handoff.clock)
    try:
        wait_until(lambda: caught_up(fresh_postgres_url, handoff))
        status = read.status()
        assert {name: (status[name]["state"], status[name]["parked"]) for name in READ_MODELS} == {
            name: ("live", 0) for name in READ_MODELS
        }
        day = handoff.clock().date()
        entries = read.query(timeline.timeline, timeline.child_day, SCHOOL, day, "C1")
        assert entries[0]["details"]["reason"] == "ill\ufffdness"
        assert entries[0]["device_clock_skewed"] is True
        assert entries[0]["clock_skew_seconds"] < -200_000_000_000  # about 8,000 years ahead
    finally:
        supervisor.close()
        read.close()
    assert_views_equal_rebuild(fresh_postgres_url, handoff)


fragile = ReadModel("fragile", ["CREATE TABLE {reasons} (school_id text, reason varchar(10))"])


@fragile.handles(ChildMarkedAbsent)
def _reason(cur: Any, t: Any, e: ChildMarkedAbsent) -> None:
    cur.execute(t.format("INSERT INTO {reasons} VALUES (%s, %s)"), (e.school_id, e.reason))


@pytest.fixture
def fragile_projector(both_schools: Handoff, fresh_postgres_url: str) -> Iterator[Supervisor]:
    supervisor = Supervisor([fragile], fresh_postgres_url, event_log(both_schools), "handoff_events")
    supervisor.start()
    yield supervisor
    supervisor.close()


def test_one_schools_bad_event_is_parked_and_shown_and_the_other_schools_view_goes_on(
    both_schools: Handoff, fresh_postgres_url: str, fragile_projector: Supervisor
) -> None:
    handoff = both_schools
    handoff.care.mark_absent(ctx("other_teacher", school=OTHER_SCHOOL), "C1", "a reason far too long for this view")
    handoff.care.mark_absent(ctx(), "C1", "ill")
    bad = handoff.recorder.max_notification_id() - 3  # S2's absence, before its answer, S1's absence and answer
    read = ReadSide(fresh_postgres_url, event_log(handoff), handoff.clock, models=[fragile])
    client = TestClient(create_app(handoff, read))
    try:
        wait_until(lambda: read.status()["fragile"]["lag_events"] == 0)
        status = read.status()["fragile"]
        assert (status["state"], status["parked"]) == ("live", 1)
        assert (status["last_parked"]["position"], status["last_parked"]["school_id"]) == (bad, OTHER_SCHOOL)
        assert "StringDataRightTruncation" in status["last_parked"]["error"]
        health = client.get("/health").json()
        assert (health["status"], health["parked"]) == ("degraded", ["fragile"])
        assert 'handoff_projection_parked_events{projection="fragile"} 1.0' in client.get("/metrics").text
        with read.pool.connection() as conn:
            kept = conn.execute(fragile.tables(1).format("SELECT school_id, reason FROM {reasons}")).fetchall()
        assert kept == [(SCHOOL, "ill")]
    finally:
        read.close()


def test_health_calls_a_view_stuck_when_its_position_stands_still_while_the_head_moves(
    both_schools: Handoff, fresh_postgres_url: str
) -> None:
    handoff = both_schools
    supervisor = Supervisor([fragile], fresh_postgres_url, event_log(handoff), "handoff_events")
    supervisor.start()
    real_clock = lambda: datetime.now(timezone.utc)  # noqa: E731 - the events' server times are in the past
    read = ReadSide(fresh_postgres_url, event_log(handoff), real_clock, models=[fragile], stuck_after=0.5)
    try:
        wait_until(lambda: read.status()["fragile"]["lag_events"] == 0)
        supervisor.close()  # the projector stops; the head moves on
        handoff.care.mark_absent(ctx(), "C1", "ill")
        wait_until(lambda: read.status()["fragile"]["state"] == "stuck", timeout=10)
        health = TestClient(create_app(handoff, read)).get("/health").json()
        assert (health["status"], health["failing"]) == ("failing", ["fragile"])
    finally:
        supervisor.close()
        read.close()


def test_an_unknown_childs_timeline_is_404_and_released_to_agrees_everywhere(
    fresh_postgres_url: str, clock: Clock
) -> None:
    handoff = make_handoff(postgres_env(fresh_postgres_url), clock)
    read = ReadSide(fresh_postgres_url, event_log(handoff), handoff.clock)
    tablet = make_tablet(handoff, read)
    supervisor = projector_supervisor(handoff, fresh_postgres_url)
    supervisor.start()
    try:
        unknown = tablet.client.get("/api/v1/schools/S1/children/C9999/timeline", headers=tablet.headers("teacher"))
        assert (unknown.status_code, unknown.json()["code"]) == (404, "child_not_found")
        clock.now = clock.now.replace(hour=9, minute=5)  # 17:05 in Shanghai: C2 may leave alone from 17:00
        late = {"device_time": "2026-11-30T17:05:00+08:00"}
        tablet.post("check-in", {"place_code": "T1", **late}, child="C2")
        answer = tablet.post("release", {"self_release": True, **late}, child="C2").json()["custody"]
        wait_until(lambda: caught_up(fresh_postgres_url, handoff))
        listed = tablet.client.get(
            "/api/v1/schools/S1/occupancy/children", params={"child": "C2"}, headers=tablet.headers("teacher")
        ).json()["items"][0]
        day = tablet.day(child="C2").json()["custody"]
        assert (listed["released_to"], listed["self_released"]) == (None, True)
        assert (answer["released_to"], answer["self_released"]) == (day["released_to"], day["self_released"])
        assert (day["released_to"], day["self_released"]) == (None, True)
    finally:
        supervisor.close()
        read.close()
        handoff.close()
