"""The read models on PostgreSQL: a realistic afternoon, projected, queried, and rebuilt from zero."""

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
from tests.support import ACTORS, AFTERNOON, DISTRICT, SCHOOL, Clock, ctx, enrol

DAY = AFTERNOON.astimezone(ZoneInfo("Asia/Shanghai")).date()
CHILDREN = [f"C{n}" for n in range(1, 8)]


def at(hhmm: str) -> datetime:
    """A local time in Shanghai on the service day."""
    return datetime.combine(DAY, time.fromisoformat(hhmm), ZoneInfo("Asia/Shanghai"))


def afternoon(h: Handoff, clock: Clock) -> None:
    """Seven children: C1 handed to G1 after a stranger is refused, C2 leaves alone, C3 is absent, C4 is picked up
    after its batch (no late-pickup incident: no sweep runs here), C5 is still in care, C6 is marked absent and then
    turns up, C7 is never seen."""
    for child in ("C4", "C5", "C6", "C7"):
        h.roster.add_child(ctx("admin"), child, "3-2", 3)
    for child, guardian in (("C4", "G4"), ("C5", "G5"), ("C6", "G6")):
        h.guardian_list.authorise_guardian(ctx("admin"), child, guardian, "parent", "4444")
        enrol(h, ACTORS["admin"], SCHOOL, child, [guardian], None)
    steps = [
        ("16:30", lambda: h.care.check_in(ctx(), "C1", "T1", None, "h1")),
        ("16:31", lambda: h.care.mark_absent(ctx(), "C3", "sick")),
        ("16:31", lambda: h.care.mark_absent(ctx(), "C6", "dentist")),
        ("16:32", lambda: h.care.check_in(ctx("teacher2"), "C2", "T2", None, None)),
        ("16:33", lambda: h.care.check_in(ctx(), "C4", "T1", None, None)),
        ("16:35", lambda: h.care.check_in(ctx("teacher2"), "C5", "T2", None, None)),
        ("16:40", lambda: h.care.transfer(ctx(), "C1", "t2", "T2")),
        ("16:45", lambda: h.care.register_arrival(ctx("gate"), "C1", "X9", "id_document", None)),
        (
            "16:46",
            lambda: h.incidents.open_incident(ctx("gate"), "unauthorised_pickup_attempt", ["C1"], [], "X9", "i1"),
        ),
        ("16:48", lambda: h.care.check_in(ctx(), "C6", "T1", None, None)),
        ("16:50", lambda: h.care.register_arrival(ctx("gate"), "C1", "G1", "pickup_code", "1234")),
        ("16:52", lambda: h.care.confirm(ctx("teacher2"), "C1", "G1", True, True)),
        ("16:55", lambda: h.care.release(ctx("teacher2"), "C1", "G1")),
        ("17:05", lambda: h.care.release(ctx("teacher2"), "C2", None)),
        ("17:40", lambda: h.care.register_arrival(ctx("gate"), "C4", "G4", "pickup_code", "4444")),
        ("17:42", lambda: h.care.confirm(ctx(), "C4", "G4", True, True)),
        ("17:45", lambda: h.care.release(ctx(), "C4", "G4")),
        (
            "17:50",
            lambda: h.incidents.open_incident(ctx("duty_leader"), "missing_child", ["C5"], [], "Not at T2", "i2"),
        ),
        ("17:52", lambda: h.incidents.open_incident(ctx("duty_leader"), "injury", ["C4"], [], "Grazed knee", "i3")),
        ("17:55", lambda: h.incidents.resolve_incident(ctx("duty_leader"), "i2", "Found in the library")),
    ]
    for hhmm, step in steps:
        clock.now = at(hhmm)
        step()


def project(h: Handoff, url: str, version: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_catalog(conn)
    for model in READ_MODELS.values():
        projector = Projector(model, url, EventLog(h.recorder, h.mapper), version=version)
        projector.prepare()
        projector.catch_up()


def dump(conn: psycopg.Connection[Any], table: sql.Identifier) -> list[str]:
    query = sql.SQL("SELECT to_jsonb(x)::text FROM {} x ORDER BY 1").format(table)
    return [row[0] for row in conn.execute(query)]


def pick(rows: list[dict[str, Any]], *keys: str) -> list[tuple[Any, ...]]:
    return [tuple(row[key] for key in keys) for row in rows]


def test_read_models_after_an_afternoon(postgres_handoff: Handoff, fresh_postgres_url: str, clock: Clock) -> None:
    afternoon(postgres_handoff, clock)
    project(postgres_handoff, fresh_postgres_url, 1)
    with psycopg.connect(fresh_postgres_url) as conn:
        check_occupancy(conn)
        check_timeline(conn)
        check_audit(conn)
        check_attendance(conn)
        check_supervision(conn)
        check_district(conn)
    project(postgres_handoff, fresh_postgres_url, 2)
    with psycopg.connect(fresh_postgres_url) as conn:
        for model in READ_MODELS.values():
            first, second = model.tables(1).identifiers.values(), model.tables(2).identifiers.values()
            assert [dump(conn, t) for t in first] == [dump(conn, t) for t in second], model.name
        stored = [row for t in district.district.tables(1).identifiers.values() for row in dump(conn, t)]
        assert stored and not [row for row in stored if any(child in row for child in CHILDREN)]


def check_occupancy(conn: psycopg.Connection[Any]) -> None:
    """At 17:45: five children were expected (C3 only applied, C7 never did); C5 and C6 are still in care after
    their 17:30 batch and the end of service."""
    found = occupancy_queries.summary(conn, occupancy.occupancy.tables(1), SCHOOL, DAY, at("17:45"))
    counts = ("on_roster", "expected", "expected_not_seen", "checked_in", "in_care", "released", "absent")
    assert [found[key] for key in counts] == [7, 5, 0, 5, 2, 3, 1]
    assert (found["waiting_after_batch"], found["waiting_after_end"]) == (2, 2)
    t1 = {"temporary_class": "T1", "expected": 5, "present": 5, "absent": 0, "not_seen": 0, "in_care": 2}
    assert found["classes"] == [t1]
    earlier = occupancy_queries.summary(conn, occupancy.occupancy.tables(1), SCHOOL, DAY, at("17:20"))
    assert (earlier["waiting_after_batch"], earlier["waiting_after_end"]) == (0, 0)


def check_timeline(conn: psycopg.Connection[Any]) -> None:
    rows = timeline.child_day(conn, timeline.timeline.tables(1), SCHOOL, DAY, "C1")
    keys = ("version", "event_type", "server_time", "device_time", "actor_id", "actor_role", "device_id")
    assert [tuple(row) for row in rows] == [(*keys, "details", "clock_skew_seconds", "device_clock_skewed")] * 6
    # every device here reads 16:30: the server's clock is the authority and the skew beyond five minutes is flagged
    assert pick(rows, "clock_skew_seconds", "device_clock_skewed") == [
        (0, False),
        (600, True),
        (900, True),
        (1200, True),
        (1320, True),
        (1500, True),
    ]
    assert pick(rows, *keys) == [
        (1, "ChildCheckedIn", at("16:30"), AFTERNOON, "t1", "teacher", "tablet-1"),
        (2, "ChildTransferred", at("16:40"), AFTERNOON, "t1", "teacher", "tablet-1"),
        (3, "ReleaseRefused", at("16:45"), AFTERNOON, "g1", "gate", "tablet-1"),
        (4, "GuardianArrived", at("16:50"), AFTERNOON, "g1", "gate", "tablet-1"),
        (5, "GuardianAndChildConfirmed", at("16:52"), AFTERNOON, "t2", "teacher", "tablet-1"),
        (6, "ChildReleased", at("16:55"), AFTERNOON, "t2", "teacher", "tablet-1"),
    ]
    assert [row["details"] for row in rows] == [
        {"custodian_id": "t1", "place_code": "T1", "handed_over_by": "h1"},
        {"from_custodian_id": "t1", "from_place_code": "T1", "to_custodian_id": "t2", "to_place_code": "T2"},
        {"guardian_id": "X9", "stage": "arrival", "reason_code": "guardian_not_authorised", "authorisation_version": 2},
        {"guardian_id": "G1", "verification": "pickup_code", "authorisation_version": 2},
        {"guardian_id": "G1", "guardian_recognised_child": True, "child_recognised_guardian": True, "witness_id": "t2"},
        {
            "guardian_id": "G1",
            "self_release": False,
            "from_custodian_id": "t2",
            "authorisation_version": 2,
            "emergency": False,
        },
    ]


def check_audit(conn: psycopg.Connection[Any]) -> None:
    t = audit.audit.tables(1)
    rows = audit.custody_changes(conn, t, SCHOOL, DAY)
    assert {row["device_id"] for row in rows} == {"tablet-1"} and {row["device_time"] for row in rows} == {AFTERNOON}
    keys = ("server_time", "child_id", "version", "kind", "from_party", "from_place", "to_party", "to_place")
    assert pick(rows, *keys, "actor_id", "actor_role") == [
        (at("16:30"), "C1", 1, "check_in", "h1", None, "t1", "T1", "t1", "teacher"),
        (at("16:32"), "C2", 1, "check_in", None, None, "t2", "T2", "t2", "teacher"),
        (at("16:33"), "C4", 1, "check_in", None, None, "t1", "T1", "t1", "teacher"),
        (at("16:35"), "C5", 1, "check_in", None, None, "t2", "T2", "t2", "teacher"),
        (at("16:40"), "C1", 2, "transfer", "t1", "T1", "t2", "T2", "t1", "teacher"),
        (at("16:48"), "C6", 2, "check_in", None, None, "t1", "T1", "t1", "teacher"),
        (at("16:55"), "C1", 6, "release", "t2", "T2", "G1", None, "t2", "teacher"),
        (at("17:05"), "C2", 2, "release", "t2", "T2", "self", None, "t2", "teacher"),
        (at("17:45"), "C4", 4, "release", "t1", "T1", "G4", None, "t1", "teacher"),
    ]
    skews = [(row["clock_skew_seconds"], row["device_clock_skewed"]) for row in rows]
    assert skews[0] == (0, False) and skews[-1] == (4500, True), "server time minus the device's 16:30"
    assert pick(audit.custody_changes(conn, t, SCHOOL, child="C1", limit=1, offset=1), "kind") == [("transfer",)]
    assert audit.custody_changes(conn, t, SCHOOL, day=DAY.replace(day=1)) == []


def check_attendance(conn: psycopg.Connection[Any]) -> None:
    t = attendance.attendance.tables(1)
    rows = attendance.by_child(conn, t, SCHOOL, DAY)
    keys = ("child_id", "home_class", "status", "place_code", "absence_reason", "checked_in_at", "released_at")
    assert pick(rows, *keys, "released_how") == [
        ("C1", "3-1", "present", "T1", None, at("16:30"), at("16:55"), "guardian"),
        ("C2", "3-1", "present", "T2", None, at("16:32"), at("17:05"), "self"),
        ("C3", "3-1", "absent", None, "sick", None, None, None),
        ("C4", "3-2", "present", "T1", None, at("16:33"), at("17:45"), "guardian"),
        ("C5", "3-2", "present", "T2", None, at("16:35"), None, None),
        ("C6", "3-2", "present", "T1", "dentist", at("16:48"), None, None),
    ]
    assert pick(attendance.by_child(conn, t, SCHOOL, DAY, place="T2", limit=1, offset=1), "child_id") == [("C5",)]
    assert attendance.by_class(conn, t, SCHOOL, DAY) == [
        {"place_code": "T1", "present": 3, "released": 2, "still_in_care": 1},
        {"place_code": "T2", "present": 2, "released": 1, "still_in_care": 1},
    ]
    assert attendance.by_home_class(conn, t, SCHOOL, DAY) == [
        {"home_class": "3-1", "grade": 3, "on_roster": 3, "present": 2, "absent": 1, "not_seen": 0},
        {"home_class": "3-2", "grade": 3, "on_roster": 4, "present": 3, "absent": 0, "not_seen": 1},
    ]


def check_supervision(conn: psycopg.Connection[Any]) -> None:
    t = supervision.supervision.tables(1)
    assert supervision.by_staff(conn, t, SCHOOL, DAY) == [
        {"staff_id": "t1", "place_code": "T1", "first_time": at("16:30"), "last_time": at("17:45"), "children": 3,
         "events": 7},
        {"staff_id": "t2", "place_code": "T2", "first_time": at("16:32"), "last_time": at("17:05"), "children": 3,
         "events": 8},
    ]  # fmt: skip
    assert supervision.by_staff(conn, t, SCHOOL, DAY, staff="t2", place="T1") == []
    keys = ("server_time", "child_id", "version", "kind", "staff_id", "place_code", "event_type")
    assert pick(supervision.entries(conn, t, SCHOOL, DAY, staff="t1"), *keys) == [
        (at("16:30"), "C1", 1, "in_charge", "t1", "T1", "ChildCheckedIn"),
        (at("16:33"), "C4", 1, "in_charge", "t1", "T1", "ChildCheckedIn"),
        (at("16:40"), "C1", 2, "handed_over", "t1", "T1", "ChildTransferred"),
        (at("16:48"), "C6", 2, "in_charge", "t1", "T1", "ChildCheckedIn"),
        (at("17:40"), "C4", 2, "in_charge", "t1", "T1", "GuardianArrived"),
        (at("17:42"), "C4", 3, "in_charge", "t1", "T1", "GuardianAndChildConfirmed"),
        (at("17:45"), "C4", 4, "handed_over", "t1", "T1", "ChildReleased"),
    ]
    assert pick(supervision.entries(conn, t, SCHOOL, DAY, limit=4, offset=5), *keys) == [
        (at("16:40"), "C1", 2, "in_charge", "t2", "T2", "ChildTransferred"),
        (at("16:45"), "C1", 3, "in_charge", "t2", "T2", "ReleaseRefused"),
        (at("16:48"), "C6", 2, "in_charge", "t1", "T1", "ChildCheckedIn"),
        (at("16:50"), "C1", 4, "in_charge", "t2", "T2", "GuardianArrived"),
    ]


def check_district(conn: psycopg.Connection[Any]) -> None:
    t = district.district.tables(1)
    counts = {
        "children_served": 5,
        "released": 3,
        "absent": 1,
        "late_pickups": 0,  # late-pickup incidents (School.is_late_pickup), which no sweep opened here
        "release_refusals": 1,
        "corrections": 0,
        "incidents": 3,
        "missing_child_incidents": 1,
        "unauthorised_pickup_incidents": 1,
        "incidents_open": 2,
    }
    day = {"district_id": DISTRICT, "school_id": SCHOOL, "service_day": DAY, **counts}
    assert district.summary(conn, t, DISTRICT, DAY, DAY) == [day]
    assert district.summary(conn, t, DISTRICT, DAY.replace(day=1), DAY, school=SCHOOL) == [day]
    assert district.summary(conn, t, DISTRICT, DAY, DAY, school="S2") == []
    assert district.summary(conn, t, "D2", DAY, DAY) == []
