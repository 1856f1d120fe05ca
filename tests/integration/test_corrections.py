"""Corrections in the read models on PostgreSQL: the voided record and its correction are both shown, the state is
restored, the district counts are undone, and a rebuild from zero gives the same rows."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from projections import attendance, audit, district, occupancy, occupancy_queries, supervision, timeline
from projections.catalog import ensure_catalog
from projections.log import EventLog
from projections.registry import READ_MODELS
from projections.runner import Projector
from service.application.handoff import Handoff
from tests.support import AFTERNOON, DISTRICT, SCHOOL, Clock, ctx, handed_to_guardian

DAY = AFTERNOON.astimezone(ZoneInfo("Asia/Shanghai")).date()


def at(hhmm: str) -> datetime:
    """A local time in Shanghai on the service day."""
    return datetime.combine(DAY, time.fromisoformat(hhmm), ZoneInfo("Asia/Shanghai"))


def project(h: Handoff, url: str, version: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_catalog(conn)
    for model in READ_MODELS.values():
        projector = Projector(model, url, EventLog(h.recorder, h.mapper), version=version)
        projector.prepare()
        projector.catch_up()
        projector.close()


def dump(conn: psycopg.Connection[Any], table: sql.Identifier) -> list[str]:
    query = sql.SQL("SELECT to_jsonb(x)::text FROM {} x ORDER BY 1").format(table)
    return [row[0] for row in conn.execute(query)]


def assert_rebuild_equal(h: Handoff, url: str) -> None:
    """Version 2, projected from zero, holds exactly the rows of version 1, and the district holds no child."""
    project(h, url, 2)
    with psycopg.connect(url) as conn:
        for model in READ_MODELS.values():
            first, second = model.tables(1).identifiers.values(), model.tables(2).identifiers.values()
            assert [dump(conn, t) for t in first] == [dump(conn, t) for t in second], model.name
        stored = [row for t in district.district.tables(1).identifiers.values() for row in dump(conn, t)]
        assert stored and not [row for row in stored if any(child in row for child in ("C1", "C2", "C3"))]


def pick(rows: list[dict[str, Any]], *keys: str) -> list[tuple[Any, ...]]:
    return [tuple(row[key] for key in keys) for row in rows]


def counts(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    [day] = district.summary(conn, district.district.tables(1), DISTRICT, DAY, DAY)
    custody = ("children_served", "released", "absent", "late_pickups", "release_refusals", "corrections")
    return {key: day[key] for key in custody}


def test_a_check_in_for_the_wrong_child_is_corrected(
    postgres_handoff: Handoff, fresh_postgres_url: str, clock: Clock
) -> None:
    h = postgres_handoff
    clock.now = at("16:30")
    h.care.check_in(ctx(), "C2", "T1", None, None)  # meant for C1
    clock.now = at("16:32")
    h.care.correct(ctx("duty_leader"), "C2", DAY, "checked in the wrong child")
    clock.now = at("16:33")
    h.care.check_in(ctx(), "C1", "T1", None, None)
    project(h, fresh_postgres_url, 1)

    with psycopg.connect(fresh_postgres_url) as conn:
        found = occupancy_queries.children(conn, occupancy.occupancy.tables(1), SCHOOL, DAY)
        assert pick(found, "child_id", "status", "custodian_id", "place_code") == [("C1", "in_care", "t1", "T1")]
        summary = occupancy_queries.summary(conn, occupancy.occupancy.tables(1), SCHOOL, DAY, at("16:40"))
        assert (summary["checked_in"], summary["in_care"], summary["expected_not_seen"]) == (1, 1, 1)

        rows = attendance.by_child(conn, attendance.attendance.tables(1), SCHOOL, DAY)
        assert pick(rows, "child_id", "status", "checked_in_at") == [("C1", "present", at("16:33"))]

        entries = timeline.child_day(conn, timeline.timeline.tables(1), SCHOOL, DAY, "C2")
        assert pick(entries, "version", "event_type", "actor_id") == [
            (1, "ChildCheckedIn", "t1"),
            (2, "CustodyCorrected", "d1"),
        ]
        assert entries[1]["details"] == {
            "voids_version": 1,
            "voids_type": "ChildCheckedIn",
            "reason": "checked in the wrong child",
            "status": "expected",
            "custodian_id": None,
            "place_code": None,
            "arrived_guardians": [],
            "confirmed_guardian_id": None,
            "released_to": None,
            "self_released": False,
        }

        changes = audit.custody_changes(conn, audit.audit.tables(1), SCHOOL, DAY)
        keys = ("child_id", "version", "kind", "from_party", "from_place", "to_party", "to_place", "actor_id", "note")
        assert pick(changes, *keys) == [
            ("C2", 1, "check_in", None, None, "t1", "T1", "t1", None),
            ("C2", 2, "correction", "t1", "T1", None, None, "d1", "checked in the wrong child"),
            ("C1", 1, "check_in", None, None, "t1", "T1", "t1", None),
        ]

        entries = supervision.entries(conn, supervision.supervision.tables(1), SCHOOL, DAY)
        assert pick(entries, "child_id", "version", "kind", "staff_id", "place_code", "event_type") == [
            ("C2", 1, "in_charge", "t1", "T1", "ChildCheckedIn"),
            ("C2", 2, "handed_over", "t1", "T1", "CustodyCorrected"),
            ("C1", 1, "in_charge", "t1", "T1", "ChildCheckedIn"),
        ]

        assert counts(conn) == {
            "children_served": 1,
            "released": 0,
            "absent": 0,
            "late_pickups": 0,
            "release_refusals": 0,
            "corrections": 1,
        }
    assert_rebuild_equal(h, fresh_postgres_url)


def test_a_late_check_in_after_an_absence_is_corrected(
    postgres_handoff: Handoff, fresh_postgres_url: str, clock: Clock
) -> None:
    """Voiding the check-in of a child marked absent makes the child absent again, then served when checked in."""
    h = postgres_handoff
    clock.now = at("16:30")
    h.care.mark_absent(ctx(), "C1", "sick")
    h.care.mark_absent(ctx(), "C2", "dentist")
    clock.now = at("16:40")
    h.care.check_in(ctx(), "C1", "T1", None, None)  # meant for C2
    h.care.correct(ctx("admin"), "C1", DAY, "wrong child")
    clock.now = at("16:45")
    h.care.check_in(ctx(), "C2", "T1", None, None)
    project(h, fresh_postgres_url, 1)

    with psycopg.connect(fresh_postgres_url) as conn:
        rows = attendance.by_child(conn, attendance.attendance.tables(1), SCHOOL, DAY)
        assert pick(rows, "child_id", "status", "place_code", "absence_reason", "checked_in_at") == [
            ("C1", "absent", None, "sick", None),
            ("C2", "present", "T1", "dentist", at("16:45")),
        ]
        found = occupancy_queries.children(conn, occupancy.occupancy.tables(1), SCHOOL, DAY)
        assert pick(found, "child_id", "status", "custodian_id", "checked_in_at") == [
            ("C1", "absent", None, None),
            ("C2", "in_care", "t1", at("16:45")),
        ]
        assert counts(conn) == {
            "children_served": 1,
            "released": 0,
            "absent": 1,
            "late_pickups": 0,
            "release_refusals": 0,
            "corrections": 1,
        }
    assert_rebuild_equal(h, fresh_postgres_url)


def test_a_release_recorded_by_mistake_is_corrected(
    postgres_handoff: Handoff, fresh_postgres_url: str, clock: Clock
) -> None:
    h = postgres_handoff
    clock.now = at("16:30")
    h.care.check_in(ctx(), "C2", "T2", None, None)
    clock.now = at("17:40")  # late by the rule, but late pickups are the sweep's incidents, and none ran here
    h.care.release(ctx(), "C2", None)
    handed_to_guardian(h)
    clock.now = at("17:45")
    h.care.release(ctx(), "C1", "G1")  # tapped too early: the guardian is still at the gate
    clock.now = at("17:46")
    h.care.correct(ctx("duty_leader"), "C1", DAY, "released by mistake")
    project(h, fresh_postgres_url, 1)

    with psycopg.connect(fresh_postgres_url) as conn:
        found = occupancy_queries.children(conn, occupancy.occupancy.tables(1), SCHOOL, DAY, child="C1")
        keys = ("status", "custodian_id", "place_code", "guardian_arrived", "confirmed", "released_at", "released_to")
        assert pick(found, *keys) == [("in_care", "t1", "T1", True, True, None, None)]

        rows = attendance.by_child(conn, attendance.attendance.tables(1), SCHOOL, DAY)
        assert pick(rows, "child_id", "status", "released_at", "released_how") == [
            ("C1", "present", None, None),
            ("C2", "present", at("17:40"), "self"),
        ]

        entries = timeline.child_day(conn, timeline.timeline.tables(1), SCHOOL, DAY, "C1")
        assert [row["event_type"] for row in entries][-2:] == ["ChildReleased", "CustodyCorrected"]
        assert entries[-1]["details"]["status"] == "in_care"

        changes = audit.custody_changes(conn, audit.audit.tables(1), SCHOOL, DAY, child="C1")
        keys = ("version", "kind", "from_party", "from_place", "to_party", "to_place", "note")
        assert pick(changes, *keys) == [
            (1, "check_in", None, None, "t1", "T1", None),
            (4, "release", "t1", "T1", "G1", None, None),
            (5, "correction", "G1", "T1", "t1", "T1", "released by mistake"),
        ]

        entries = supervision.entries(conn, supervision.supervision.tables(1), SCHOOL, DAY, staff="t1")
        assert pick(entries, "child_id", "version", "kind", "event_type")[-2:] == [
            ("C1", 4, "handed_over", "ChildReleased"),
            ("C1", 5, "in_charge", "CustodyCorrected"),
        ]

        assert counts(conn) == {
            "children_served": 2,
            "released": 1,
            "absent": 0,
            "late_pickups": 0,
            "release_refusals": 0,
            "corrections": 1,
        }
    assert_rebuild_equal(h, fresh_postgres_url)


def test_a_single_mistaken_release_leaves_no_release_counted(
    postgres_handoff: Handoff, fresh_postgres_url: str, clock: Clock
) -> None:
    h = postgres_handoff
    clock.now = at("16:30")
    handed_to_guardian(h)
    h.care.release(ctx(), "C1", "G1")
    h.care.correct(ctx("duty_leader"), "C1", DAY, "released by mistake")
    project(h, fresh_postgres_url, 1)

    with psycopg.connect(fresh_postgres_url) as conn:
        rows = attendance.by_child(conn, attendance.attendance.tables(1), SCHOOL, DAY)
        assert pick(rows, "child_id", "status", "released_at") == [("C1", "present", None)]
        summary = occupancy_queries.summary(conn, occupancy.occupancy.tables(1), SCHOOL, DAY, at("16:40"))
        assert (summary["in_care"], summary["released"]) == (1, 0)
        assert counts(conn)["released"] == 0 and counts(conn)["corrections"] == 1
    assert_rebuild_equal(h, fresh_postgres_url)
