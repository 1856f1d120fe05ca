"""Roster sync over three versions of a school's OneRoster export: each re-import applies the differences as events,
with a line per change for the admin; a dry run lists them and records nothing; a guardian the school removed is
refused at the gate from the next request on.

Every person here is invented; phone numbers are 555 numbers."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta

from httpx2 import Response

from aggregates.staff import Role
from service.application.context import Actor, operator_context
from tests.api.conftest import Tablet
from tests.api.test_oneroster_over_http import CLEAN, MANIFEST, SCHOOL, zipped
from tests.support import ctx

ADMIN = Actor("a1", Role.ADMIN, SCHOOL, "D-CN")
TERM = "2026-autumn"
DEVICE = {"device_id": "office-pc", "device_time": "2026-11-30T16:30:00+08:00"}


def version_2() -> dict[str, str]:
    """The school's records a month on: 刘娜 (u-p2) no longer collects 张小明; 欧阳雪 moved to 303, her given name
    corrected to 雪儿, and an aunt (u-p4) added as her guardian."""
    files = dict(CLEAN)
    users = files["users.csv"].replace('"u-p1,u-p2"', "u-p1").replace(",雪,欧阳,", ",雪儿,欧阳,")
    users = users.replace(",u-p3,03,", ',"u-p3,u-p4",03,')
    users = "\n".join(line for line in users.splitlines() if not line.startswith("u-p2,")) + "\n"
    users += "u-p4,active,2026-09-30T09:00:00.000Z,true,s1,relative,ouyangli,,丽,欧阳,,,,,555-0114,u-s2,,\n"
    files["users.csv"] = users
    classes = files["classes.csv"]
    classes += "k303,active,2026-09-30T09:00:00.000Z,三年级（3）班,03,c-home,303,homeroom,303教室,s1,t2026a,,,\n"
    files["classes.csv"] = classes
    files["enrollments.csv"] = files["enrollments.csv"].replace(
        "e3,active,2026-08-20T09:00:00.000Z,k302", "e3,active,2026-08-20T09:00:00.000Z,k303"
    )
    return files


def version_3() -> dict[str, str]:
    """And later: 欧阳雪 left the school (her rows are gone), with her aunt and her relative."""
    files = version_2()
    gone = ("u-s2,", "u-p3,", "u-p4,", "e3,")
    for name in ("users.csv", "enrollments.csv", "demographics.csv"):
        files[name] = "\n".join(line for line in files[name].splitlines() if not line.startswith(gone)) + "\n"
    return files


def school_with_staff(tablet: Tablet) -> dict[str, str]:
    """The school, a term, a batch, a temporary class and its teacher, a guard and an admin, with tokens."""
    handoff, system = tablet.handoff, lambda: operator_context(SCHOOL)
    handoff.setup.register_school(system(), "城南实验小学", "D-CN", "Asia/Shanghai")
    handoff.setup.add_place(system(), "T01", "temporary_class", "临时1班", "Temporary class 1")
    handoff.setup.schedule_term(system(), TERM, date(2026, 9, 1), date(2027, 1, 20), 100)
    handoff.setup.add_release_batch(system(), "B1", "第一批", "First batch", time(17, 30))
    tokens = {}
    for staff_id, role in (("T-101", Role.TEACHER), ("G-1", Role.GATE), ("A-001", Role.ADMIN)):
        if staff_id != "T-101":  # the teacher comes with the roster
            handoff.staff.register_staff(system(), staff_id, role, "D-CN")
        tokens[role.value] = staff_id
    return tokens


def sync(tablet: Tablet, files: dict[str, str], token: str, dry_run: bool = False) -> Response:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    params = DEVICE | ({"dry_run": "true"} if dry_run else {})
    url = f"/api/v1/schools/{SCHOOL}/roster"
    answer = tablet.client.post(
        url, params=params, content=zipped(files), headers=headers | {"Content-Type": "application/zip"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def gate_command(tablet: Tablet, token: str, path: str, body: dict) -> dict:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    url = f"/api/v1/schools/{SCHOOL}/children/S-30201/{path}"
    answer = tablet.client.post(url, json=DEVICE | body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def enrol_s30201(tablet: Tablet, second: str = "u-p2") -> None:
    """张小明 is enrolled for the term, collected by either parent (u-p1, u-p2)."""
    enrolments, act = tablet.handoff.enrolments, lambda: ctx(ADMIN, school=SCHOOL)
    enrolments.apply_for_care(act(), "S-30201", TERM, "u-p1", ["mon", "tue", "wed", "thu", "fri"], "B1", False, [], "")
    enrolments.review_by_class(act(), "S-30201", TERM, True, "")
    enrolments.review_by_school(act(), "S-30201", TERM, True, "")
    enrolments.arrange(act(), "S-30201", TERM, "T01")
    agreement = (["u-p1", second], None, date(2026, 9, 1), date(2027, 1, 20))
    enrolments.sign_agreement(act(), "S-30201", TERM, "u-p1", *agreement)


def test_three_versions_of_a_roster_sync_as_events_and_a_removed_guardian_is_refused_at_the_gate(
    tablet: Tablet,
) -> None:
    handoff = tablet.handoff
    staff = school_with_staff(tablet)
    admin = handoff.staff.issue_token(operator_context(SCHOOL), staff["admin"], timedelta(days=1))["token"]

    first = sync(tablet, CLEAN, admin)
    assert (first["children_added"], first["guardians_added"], first["staff_added"]) == (2, 3, 1)
    teacher = handoff.staff.issue_token(operator_context(SCHOOL), "T-101", timedelta(days=1))["token"]
    gate = handoff.staff.issue_token(operator_context(SCHOOL), "G-1", timedelta(days=1))["token"]
    enrol_s30201(tablet)

    before = tablet.event_count()
    preview = sync(tablet, version_2(), admin, dry_run=True)
    assert tablet.event_count() == before, "a dry run records nothing"
    expected_lines = [
        "S-30201: guardian u-p2 revoked (no longer in the school's records (roster sync))",
        "S-30202: home class 303, grade 3, homeroom teacher none",
        "S-30202: name or personal details corrected (sealed)",
        "S-30202: guardian u-p4 authorised (no pickup code until an admin sets one)",
    ]
    assert sorted(preview["changes"]) == sorted(expected_lines) and preview["dry_run"] is True

    second = sync(tablet, version_2(), admin)
    assert sorted(second["changes"]) == sorted(expected_lines) and tablet.event_count() > before
    assert "u-p2" not in handoff.guardians(SCHOOL, "S-30201").authorisations
    card = handoff.roster.child_card(ADMIN, SCHOOL, "S-30202")
    assert (card["home_class"], card["name"]) == ("303", "欧阳雪儿")

    gate_command(tablet, teacher, "check-in", {"place_code": "T01"})
    refused = gate_command(tablet, gate, "guardian-arrival", {"guardian_id": "u-p2", "verification": "id_document"})
    assert (refused["outcome"], refused["refusal"]["code"]) == ("refused", "guardian_not_authorised")

    third = sync(tablet, version_3(), admin)
    assert third["changes"] == ["S-30202: left the school, no longer expected"]
    assert not handoff.roster_entry(SCHOOL, "S-30202").on_roster
    head = tablet.event_count()
    assert sync(tablet, version_3(), admin)["changes"] == [] and tablet.event_count() == head


HEADERS = {name: text.splitlines()[0] + "\n" for name, text in CLEAN.items()}
OCTOBER = "2026-10-08T09:00:00.000Z"


def delta(**rows: str) -> dict[str, str]:
    """A OneRoster delta bundle: only the rows that changed since the last export, each with its status."""
    files = {f"{name}.csv": HEADERS[f"{name}.csv"] + text for name, text in rows.items()}
    manifest = MANIFEST.replace(",bulk", ",absent")
    for name in rows:
        manifest = manifest.replace(f"file.{name},absent", f"file.{name},delta")
    return {"manifest.csv": manifest} | files


DELTA_1 = delta(  # 刘娜 (u-p2) removed; 张小明's given name corrected; 欧阳雪 moved to a new class 303 from 8 October
    users=f"u-p2,tobedeleted,{OCTOBER},,,,,,,,,,,,,,,\n"
    f"u-s1,active,{OCTOBER},true,s1,student,zhangxiaoming,,晓明,张,,S-30201,,,,u-p1,03,\n",
    classes=f"k303,active,{OCTOBER},三年级（3）班,03,c-home,303,homeroom,303教室,s1,t2026a,,,\n",
    enrollments=f"e3,tobedeleted,{OCTOBER},,,,,,,\n"
    f"e5,active,{OCTOBER},k303,s1,u-s2,student,false,2026-10-08,2027-07-10\n",
)
NOVEMBER = "2026-11-02T09:00:00.000Z"
DELTA_2 = delta(  # an aunt (u-p4) added for 欧阳雪, by her own row only; 张小明 left the school
    users=f"u-p4,active,{NOVEMBER},true,s1,relative,ouyangli,,丽,欧阳,,,,,555-0114,u-s2,,\n"
    f"u-s1,tobedeleted,{NOVEMBER},,,,,,,,,,,,,,,\n",
)


def test_a_bulk_import_then_two_deltas_and_the_removed_guardian_is_refused_at_the_gate(tablet: Tablet) -> None:
    handoff = tablet.handoff
    staff = school_with_staff(tablet)
    admin = handoff.staff.issue_token(operator_context(SCHOOL), staff["admin"], timedelta(days=1))["token"]
    assert sync(tablet, CLEAN, admin)["children_added"] == 2
    teacher = handoff.staff.issue_token(operator_context(SCHOOL), "T-101", timedelta(days=1))["token"]
    gate = handoff.staff.issue_token(operator_context(SCHOOL), "G-1", timedelta(days=1))["token"]
    enrol_s30201(tablet)

    before = tablet.event_count()
    preview = sync(tablet, DELTA_1, admin, dry_run=True)
    assert tablet.event_count() == before, "a dry run records nothing"
    lines = [
        "S-30201: guardian u-p2 revoked (no longer in the school's records (roster sync))",
        "S-30201: name or personal details corrected (sealed)",
        "S-30202: home class 303, grade 3, homeroom teacher none",
        "S-30202: in the school's records from 2026-10-08 until 2027-07-10",
    ]
    assert sorted(preview["changes"]) == lines and preview["dry_run"] is True
    assert sorted(sync(tablet, DELTA_1, admin)["changes"]) == lines
    assert set(handoff.guardians(SCHOOL, "S-30201").authorisations) == {"u-p1"}
    assert handoff.roster.child_card(ADMIN, SCHOOL, "S-30201")["name"] == "张晓明"
    assert handoff.roster_entry(SCHOOL, "S-30202").home_class == "303"

    gate_command(tablet, teacher, "check-in", {"place_code": "T01"})
    refused = gate_command(tablet, gate, "guardian-arrival", {"guardian_id": "u-p2", "verification": "id_document"})
    assert (refused["outcome"], refused["refusal"]["code"]) == ("refused", "guardian_not_authorised")

    second = sync(tablet, DELTA_2, admin)
    assert sorted(second["changes"]) == [
        "S-30201: left the school, no longer expected",
        "S-30202: guardian u-p4 authorised (no pickup code until an admin sets one)",
    ]
    assert not handoff.roster_entry(SCHOOL, "S-30201").on_roster
    assert handoff.roster_entry(SCHOOL, "S-30202").on_roster, "a child absent from a delta has not left"
    assert set(handoff.guardians(SCHOOL, "S-30202").authorisations) == {"u-p3", "u-p4"}
    head = tablet.event_count()
    again = sync(tablet, DELTA_2, admin)
    assert again["changes"] == [] and tablet.event_count() == head
    assert again["skipped"][1].startswith("users.csv:3: u-s1 not applied: its dateLastModified 2026-11-02")


LATE = delta(  # delivered late: 张小明's row as old as the one applied (his old name), an enrolment older
    # than the one applied (欧阳雪 back in 302), and one newer row (欧阳雪's given name corrected to 雪儿)
    users=f"u-s1,active,{OCTOBER},true,s1,student,zhangxiaoming,,小明,张,,S-30201,,,,u-p1,03,\n"
    "u-s2,active,2026-11-02T08:00:00+08:00,true,s1,student,ouyangxue,,雪儿,欧阳,,S-30202,,,,u-p3,03,\n",
    classes="k302,active,2026-08-20T09:00:00.000Z,三年级（2）班,03,c-home,302,homeroom,302教室,s1,t2026a,,,\n",
    enrollments="e5,active,2026-09-30T09:00:00.000Z,k302,s1,u-s2,student,false,2026-09-01,2027-07-10\n",
)


def test_a_delta_row_no_newer_than_the_one_applied_changes_nothing_and_is_listed(tablet: Tablet) -> None:
    handoff = tablet.handoff
    staff = school_with_staff(tablet)
    admin = handoff.staff.issue_token(operator_context(SCHOOL), staff["admin"], timedelta(days=1))["token"]
    sync(tablet, CLEAN, admin)
    sync(tablet, DELTA_1, admin)

    preview = sync(tablet, LATE, admin, dry_run=True)
    answer = sync(tablet, LATE, admin)
    skipped = [
        f"users.csv:2: u-s1 not applied: its dateLastModified {OCTOBER} is not later than {OCTOBER}, applied before",
        f"enrollments.csv:2: e5 not applied: its dateLastModified 2026-09-30T09:00:00.000Z is not later than {OCTOBER},"
        " applied before",
    ]
    assert preview["skipped"] == answer["skipped"] == skipped
    assert preview["changes"] == answer["changes"] == ["S-30202: name or personal details corrected (sealed)"]
    assert set(handoff.guardians(SCHOOL, "S-30201").authorisations) == {"u-p1"}
    assert handoff.roster.child_card(ADMIN, SCHOOL, "S-30201")["name"] == "张晓明"
    assert handoff.roster_entry(SCHOOL, "S-30202").home_class == "303"
    assert handoff.roster.child_card(ADMIN, SCHOOL, "S-30202")["name"] == "欧阳雪儿"
    again = sync(tablet, LATE, admin)
    assert again["changes"] == [] and again["skipped"][1].startswith("users.csv:3: u-s2 not applied")


def test_a_guardian_a_delta_deletes_by_sourced_id_only_is_revoked_and_refused_at_the_gate(tablet: Tablet) -> None:
    """刘娜's row in the school's records gives her number G-0112, Handoff's id for her; a delta deletes her by her
    sourcedId (u-p2) alone, as the specification allows."""
    handoff, staff = tablet.handoff, school_with_staff(tablet)
    admin = handoff.staff.issue_token(operator_context(SCHOOL), staff["admin"], timedelta(days=1))["token"]
    numbered = CLEAN | {"users.csv": CLEAN["users.csv"].replace(",娜,刘,,,", ",娜,刘,,G-0112,")}
    assert sync(tablet, numbered, admin)["children_added"] == 2
    assert set(handoff.guardians(SCHOOL, "S-30201").authorisations) == {"u-p1", "G-0112"}
    teacher = handoff.staff.issue_token(operator_context(SCHOOL), "T-101", timedelta(days=1))["token"]
    gate = handoff.staff.issue_token(operator_context(SCHOOL), "G-1", timedelta(days=1))["token"]
    enrol_s30201(tablet, "G-0112")
    gate_command(tablet, teacher, "check-in", {"place_code": "T01"})

    answer = sync(tablet, delta(users=f"u-p2,tobedeleted,{OCTOBER},,,,,,,,,,,,,,,\n"), admin)
    assert answer["changes"] == ["S-30201: guardian G-0112 revoked (no longer in the school's records (roster sync))"]
    assert answer["guardians_revoked"] == 1 and not any("u-p2" in line for line in answer["ignored"])
    refused = gate_command(tablet, gate, "guardian-arrival", {"guardian_id": "G-0112", "verification": "id_document"})
    assert (refused["outcome"], refused["refusal"]["code"]) == ("refused", "guardian_not_authorised")
