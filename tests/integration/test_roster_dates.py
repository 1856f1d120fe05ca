"""Enrolment dates from the school's records (OneRoster enrollments.csv beginDate and endDate): a transfer student
whose enrolment begins next month is not expected today, nor is a child whose enrolment has ended. The occupancy view
and the roster entries folded from the log agree on every date."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from aggregates.roster import NotInSchoolRecordsError
from projections import occupancy, occupancy_queries
from service.application.handoff import Handoff
from service.application.roster_files import RosterChild, RosterFile, RosterGuardian
from service.reads.roll_call import EXPECTED_IN_CLASS
from service.reads.ui import _rows
from tests.integration.test_read_models import project
from tests.support import ACTORS, SCHOOL, TERM, ctx, enrol

DATES = {"C41": (None, None), "C42": ("2026-12-07", None), "C43": ("2026-09-01", "2026-11-20")}
"""C41 has no dates; C42 is a transfer student who starts on 7 December; C43 left on 20 November."""


def roster(dates: dict[str, tuple[str | None, str | None]]) -> RosterFile:
    guardians = {child: (RosterGuardian(f"{child}G", "芳", "李", "parent", None),) for child in dates}
    children = (RosterChild(c, "明", "李", None, "3-1", 3, None, guardians[c], "", None, *dates[c]) for c in dates)
    return RosterFile(SCHOOL, tuple(children))


def in_records(handoff: Handoff, day: date) -> set[str]:
    """The children expected on `day` by the log alone: enrolled for it, and in the school's records that day."""
    found = set()
    for child in ("C1", "C2", *DATES):
        enrolment = handoff.enrolment(SCHOOL, child, TERM)
        if enrolment.agreement and enrolment.agreement.starts_on <= day <= enrolment.agreement.ends_on:
            found |= {child} if handoff.roster_entry(SCHOOL, child).in_records_on(day) else set()
    return found


def test_children_are_expected_only_within_their_enrolment_dates(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    postgres_handoff.roster.import_roster(ctx("admin"), roster(DATES))
    for child in DATES:
        enrol(postgres_handoff, ACTORS["admin"], SCHOOL, child, [f"{child}G"], None)
    project(postgres_handoff, fresh_postgres_url, 1)
    wanted = {
        date(2026, 11, 18): {"C1", "C2", "C41", "C43"},  # before C43 left, before C42 starts
        date(2026, 11, 30): {"C1", "C2", "C41"},  # today: C43 has left, C42 has not started
        date(2026, 12, 7): {"C1", "C2", "C41", "C42"},  # C42's first day
    }
    with psycopg.connect(fresh_postgres_url) as conn:
        for day, children in wanted.items():
            found = occupancy_queries.expected_children(conn, occupancy.occupancy.tables(1), SCHOOL, day)
            assert set(found) == children == in_records(postgres_handoff, day), day
            now = postgres_handoff.clock()
            summary = occupancy_queries.summary(conn, occupancy.occupancy.tables(1), SCHOOL, day, now)
            assert summary["expected"] == len(children), day


def test_a_changed_date_in_the_records_is_synced_as_an_event(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    postgres_handoff.roster.import_roster(ctx("admin"), roster(DATES))
    moved = DATES | {"C42": ("2026-11-23", None), "C43": ("2026-09-01", None)}
    answer = postgres_handoff.roster.import_roster(ctx("admin"), roster(moved))
    assert sorted(answer["changes"]) == [
        "C42: in the school's records from 2026-11-23",
        "C43: in the school's records from 2026-09-01",
    ]
    assert answer["children_dates_changed"] == 2
    assert postgres_handoff.roster_entry(SCHOOL, "C42").in_records_on(date(2026, 11, 30))
    assert postgres_handoff.roster.import_roster(ctx("admin"), roster(moved))["changes"] == []
    enrol(postgres_handoff, ACTORS["admin"], SCHOOL, "C42", ["C42G"], None)
    project(postgres_handoff, fresh_postgres_url, 1)
    with psycopg.connect(fresh_postgres_url) as conn:
        found = occupancy_queries.expected_children(conn, occupancy.occupancy.tables(1), SCHOOL, date(2026, 11, 30))
    assert set(found) == {"C1", "C2", "C42"}


def test_check_in_and_the_roll_call_agree_with_the_expected_list(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    """Today (30 November) C42 has not started and C43 has left: the roll call of T1 lists neither, and a check-in
    of either is refused with a reason a gate teacher reads, recording nothing; C41 is checked in."""
    postgres_handoff.roster.import_roster(ctx("admin"), roster(DATES))
    for child in DATES:
        enrol(postgres_handoff, ACTORS["admin"], SCHOOL, child, [f"{child}G"], None)
    project(postgres_handoff, fresh_postgres_url, 1)
    day = date(2026, 11, 30)
    params = {"school": SCHOOL, "day": day, "class_code": "T1", "weekday": "mon"}
    with psycopg.connect(fresh_postgres_url) as conn:
        roll = _rows(EXPECTED_IN_CLASS)(conn, occupancy.occupancy.tables(1), **params)
        expected = occupancy_queries.expected_children(conn, occupancy.occupancy.tables(1), SCHOOL, day)
    assert [row["child_id"] for row in roll] == sorted(expected) == ["C1", "C2", "C41"]
    why = {
        "C42": "in the school's records, this child starts on 2026-12-07",
        "C43": "in the school's records, this child's enrolment ended on 2026-11-20",
    }
    for child, reason in why.items():
        before = postgres_handoff.recorder.max_notification_id()
        with pytest.raises(NotInSchoolRecordsError) as refused:
            postgres_handoff.care.check_in(ctx(), child, "T1", None, None)
        assert (refused.value.code, refused.value.status) == ("not_in_school_records", 409)
        assert str(refused.value) == f"This child cannot be checked in: {reason}."
        assert postgres_handoff.recorder.max_notification_id() == before
    assert postgres_handoff.care.check_in(ctx(), "C41", "T1", None, None)["outcome"] == "recorded"
