"""Live occupancy: who is on site right now, where, with whom, who was expected and who is still waiting for a
guardian after their release batch. The queries are in projections/occupancy_queries.py."""

from __future__ import annotations

from typing import Any

from psycopg import Connection, Cursor

from events.custody import (
    ChildCheckedIn,
    ChildMarkedAbsent,
    ChildReleased,
    ChildTransferred,
    CustodyCorrected,
    GuardianAndChildConfirmed,
    GuardianArrived,
)
from events.enrolment import CareApplied, ChildArranged, EnrolmentWithdrawn, SafetyAgreementSigned
from events.roster import ChildAddedToRoster, ChildRosterEntryChanged
from events.school import PlaceAdded, ReleaseBatchAdded, SchoolRegistered
from projections import catalog
from projections.base import ReadModel, Tables

occupancy = ReadModel(
    "occupancy",
    [
        "CREATE TABLE {schools} (school_id text PRIMARY KEY, district_id text NOT NULL, time_zone text NOT NULL,"
        " service_ends_at time NOT NULL)",
        "CREATE TABLE {places} (school_id text NOT NULL, place_code text NOT NULL, kind text NOT NULL,"
        " label_zh text NOT NULL, label_en text NOT NULL, PRIMARY KEY (school_id, place_code))",
        "CREATE TABLE {roster} (school_id text NOT NULL, child_id text NOT NULL, home_class text NOT NULL,"
        " grade int NOT NULL, starts_on date, ends_on date, PRIMARY KEY (school_id, child_id))",
        "CREATE TABLE {children} (school_id text NOT NULL, service_day date NOT NULL, child_id text NOT NULL,"
        " status text NOT NULL, custodian_id text, place_code text, guardian_arrived boolean NOT NULL DEFAULT false,"
        " confirmed boolean NOT NULL DEFAULT false, checked_in_at timestamptz, released_at timestamptz,"
        " released_to text, changed_at timestamptz NOT NULL, PRIMARY KEY (school_id, service_day, child_id))",
        "CREATE INDEX ON {children} (school_id, service_day, place_code)",
        "CREATE TABLE {batches} (school_id text NOT NULL, batch_code text NOT NULL, ends_at time NOT NULL,"
        " PRIMARY KEY (school_id, batch_code))",
        "CREATE TABLE {enrolments} (school_id text NOT NULL, term_id text NOT NULL, child_id text NOT NULL,"
        " days text[] NOT NULL, release_batch text NOT NULL, temporary_class text, starts_on date, ends_on date,"
        " signed boolean NOT NULL DEFAULT false, withdrawn boolean NOT NULL DEFAULT false,"
        " PRIMARY KEY (school_id, term_id, child_id))",
    ],
)


@occupancy.handles(ReleaseBatchAdded)
def _batch(cur: Cursor[Any], t: Tables, e: ReleaseBatchAdded) -> None:
    cur.execute(
        t.format("INSERT INTO {batches} VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"),
        (e.school_id, e.batch_code, e.ends_at),
    )


@occupancy.handles(CareApplied)
def _applied(cur: Cursor[Any], t: Tables, e: CareApplied) -> None:
    cur.execute(
        t.format(
            "INSERT INTO {enrolments} (school_id, term_id, child_id, days, release_batch)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
        ),
        (e.school_id, e.term_id, e.child_id, list(e.days), e.release_batch),
    )


def _enrolment(cur: Cursor[Any], t: Tables, e: Any, assignments: str, values: tuple[Any, ...]) -> None:
    cur.execute(
        t.format("UPDATE {enrolments} SET " + assignments + " WHERE school_id = %s AND term_id = %s AND child_id = %s"),
        (*values, e.school_id, e.term_id, e.child_id),
    )


@occupancy.handles(ChildArranged)
def _arranged(cur: Cursor[Any], t: Tables, e: ChildArranged) -> None:
    _enrolment(cur, t, e, "temporary_class = %s", (e.temporary_class,))


@occupancy.handles(SafetyAgreementSigned)
def _signed(cur: Cursor[Any], t: Tables, e: SafetyAgreementSigned) -> None:
    _enrolment(cur, t, e, "signed = true, starts_on = %s, ends_on = %s", (e.starts_on, e.ends_on))


@occupancy.handles(EnrolmentWithdrawn)
def _withdrawn(cur: Cursor[Any], t: Tables, e: EnrolmentWithdrawn) -> None:
    _enrolment(cur, t, e, "withdrawn = true", ())


@occupancy.handles(SchoolRegistered)
def _school(cur: Cursor[Any], t: Tables, e: SchoolRegistered) -> None:
    cur.execute(
        t.format("INSERT INTO {schools} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"),
        (e.school_id, e.district_id, e.time_zone, e.service_ends_at),
    )


@occupancy.handles(PlaceAdded)
def _place(cur: Cursor[Any], t: Tables, e: PlaceAdded) -> None:
    cur.execute(
        t.format("INSERT INTO {places} VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"),
        (e.school_id, e.place_code, e.kind, e.label_zh, e.label_en),
    )


@occupancy.handles(ChildAddedToRoster)
def _roster(cur: Cursor[Any], t: Tables, e: ChildAddedToRoster) -> None:
    cur.execute(
        t.format("INSERT INTO {roster} VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"),
        (e.school_id, e.child_id, e.home_class, e.grade, e.starts_on, e.ends_on),
    )


def roster_of(conn: Connection[Any], t: Tables, school_id: str) -> tuple[int, list[str]]:
    """The position this version has reached, then every child ever added to the school's roster (read in that
    order, as in `incidents.of_day`)."""
    reached = catalog.position(conn, occupancy.name, t.version)
    rows = t.rows(conn, "SELECT child_id FROM {roster} WHERE school_id = %(school)s", {"school": school_id})
    return reached, [row["child_id"] for row in rows]


@occupancy.handles(ChildRosterEntryChanged)
def _roster_changed(cur: Cursor[Any], t: Tables, e: ChildRosterEntryChanged) -> None:
    cur.execute(
        t.format(
            "UPDATE {roster} SET home_class = %s, grade = %s, starts_on = %s, ends_on = %s"
            " WHERE school_id = %s AND child_id = %s"
        ),
        (e.home_class, e.grade, e.starts_on, e.ends_on, e.school_id, e.child_id),
    )


@occupancy.handles(ChildCheckedIn)
def _checked_in(cur: Cursor[Any], t: Tables, e: ChildCheckedIn) -> None:
    cur.execute(
        t.format(
            "INSERT INTO {children} (school_id, service_day, child_id, status, custodian_id, place_code,"
            " checked_in_at, changed_at) VALUES (%s, %s, %s, 'in_care', %s, %s, %s, %s)"
            " ON CONFLICT (school_id, service_day, child_id) DO UPDATE SET status = 'in_care',"
            " custodian_id = excluded.custodian_id, place_code = excluded.place_code,"
            " checked_in_at = excluded.checked_in_at, changed_at = excluded.changed_at"
        ),
        (e.school_id, e.service_day, e.child_id, e.custodian_id, e.place_code, e.timestamp, e.timestamp),
    )


@occupancy.handles(ChildMarkedAbsent)
def _absent(cur: Cursor[Any], t: Tables, e: ChildMarkedAbsent) -> None:
    cur.execute(
        t.format(
            "INSERT INTO {children} (school_id, service_day, child_id, status, changed_at)"
            " VALUES (%s, %s, %s, 'absent', %s) ON CONFLICT (school_id, service_day, child_id)"
            " DO UPDATE SET status = 'absent', changed_at = excluded.changed_at"
        ),
        (e.school_id, e.service_day, e.child_id, e.timestamp),
    )


def _update(cur: Cursor[Any], t: Tables, e: Any, assignments: str, values: tuple[Any, ...]) -> None:
    cur.execute(
        t.format(
            "UPDATE {children} SET " + assignments + ", changed_at = %s"
            " WHERE school_id = %s AND service_day = %s AND child_id = %s"
        ),
        (*values, e.timestamp, e.school_id, e.service_day, e.child_id),
    )


@occupancy.handles(ChildTransferred)
def _transferred(cur: Cursor[Any], t: Tables, e: ChildTransferred) -> None:
    _update(cur, t, e, "custodian_id = %s, place_code = %s", (e.to_custodian_id, e.to_place_code))


@occupancy.handles(GuardianArrived)
def _arrived(cur: Cursor[Any], t: Tables, e: GuardianArrived) -> None:
    _update(cur, t, e, "guardian_arrived = true", ())


@occupancy.handles(GuardianAndChildConfirmed)
def _confirmed(cur: Cursor[Any], t: Tables, e: GuardianAndChildConfirmed) -> None:
    _update(cur, t, e, "confirmed = true", ())


@occupancy.handles(ChildReleased)
def _released(cur: Cursor[Any], t: Tables, e: ChildReleased) -> None:
    released_to = e.guardian_id or "self"
    _update(
        cur,
        t,
        e,
        "status = 'released', custodian_id = NULL, released_at = %s, released_to = %s",
        (e.timestamp, released_to),
    )


RESTORE = (  # a correction restores the custody before the voided record; only absent means never checked in
    "INSERT INTO {children} (school_id, service_day, child_id, status, custodian_id, place_code, guardian_arrived,"
    " confirmed, released_to, changed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (school_id, service_day, child_id) DO UPDATE SET status = excluded.status,"
    " custodian_id = excluded.custodian_id, place_code = excluded.place_code,"
    " guardian_arrived = excluded.guardian_arrived, confirmed = excluded.confirmed,"
    " released_to = excluded.released_to, changed_at = excluded.changed_at,"
    " checked_in_at = CASE WHEN excluded.status <> 'absent' THEN {children}.checked_in_at END,"
    " released_at = CASE WHEN excluded.status = 'released' THEN {children}.released_at END"
)


@occupancy.handles(CustodyCorrected)
def _corrected(cur: Cursor[Any], t: Tables, e: CustodyCorrected) -> None:
    key = (e.school_id, e.service_day, e.child_id)
    if e.status == "expected":  # nothing is recorded for the child that day any more
        cur.execute(t.format("DELETE FROM {children} WHERE school_id = %s AND service_day = %s AND child_id = %s"), key)
        return
    released_to = e.released_to or ("self" if e.self_released else None)
    guardians = (bool(e.arrived_guardians), e.confirmed_guardian_id is not None)
    cur.execute(t.format(RESTORE), (*key, e.status, e.custodian_id, e.place_code, *guardians, released_to, e.timestamp))
