"""A small school for the fault tests, seeded through the ordinary commands with the real clock, so that the
`handoff serve` process the tests start (whose clock is the real one) finds every child enrolled for today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from aggregates.enrolment import WEEKDAYS
from aggregates.staff import Role
from service.application.context import Actor, operator_context
from service.application.handoff import Handoff
from service.infra.settings import Settings
from service.runtime import build_handoff
from tests.support import SECRET

SCHOOL = "F1"
DISTRICT = "FD"
TERM = "fault-term"
PICKUP_CODE = "2468"
TEACHERS = tuple(f"teacher-{n}" for n in range(1, 7))
STAFF = {"gate-1": Role.GATE, "duty-1": Role.DUTY_LEADER, "admin-1": Role.ADMIN} | dict.fromkeys(TEACHERS, Role.TEACHER)
ADMIN = Actor("admin-1", Role.ADMIN, SCHOOL, DISTRICT)
LATE = time(23, 59)
"""Batches and the service end late in the evening, so that no late-pickup sweep adds incidents during a test."""


def settings_for(url: str, folder: Path) -> Settings:
    """The settings a server process of these tests runs with (its signing key in a folder of the test's own)."""
    return Settings(database_url=url, secret_key=SECRET, data_dir=folder, checkpoint_interval=3600)


def open_handoff(url: str, folder: Path) -> Handoff:
    return build_handoff(settings_for(url, folder), url)


@dataclass(frozen=True)
class School:
    children: list[str]
    tokens: dict[str, str]
    """Bearer token of every staff member, by staff id."""


def seed_school(handoff: Handoff, children: int) -> School:
    """School F1 with places P1, P2 and GATE, six teachers, a guard, a duty leader and an admin, and `children`
    children enrolled for a term around today, each with guardian G<n> (pickup code 2468)."""
    today = datetime.now(timezone.utc).date()
    system = lambda: operator_context(SCHOOL)  # noqa: E731
    handoff.setup.register_school(system(), "故障测试小学 Fault School", DISTRICT, "Asia/Shanghai", LATE)
    for code, kind in (("P1", "temporary_class"), ("P2", "temporary_class"), ("GATE", "gate")):
        handoff.setup.add_place(system(), code, kind, code, code)
    for staff_id, role in STAFF.items():
        handoff.staff.register_staff(system(), staff_id, role, DISTRICT)
    starts, ends = today - timedelta(days=30), today + timedelta(days=30)
    handoff.setup.schedule_term(system(), TERM, starts, ends, children + 10)
    handoff.setup.add_release_batch(system(), "B1", "第一批", "First batch", LATE)
    admin = lambda: operator_context(SCHOOL, ADMIN)  # noqa: E731 - a fresh idempotency key for every command
    ids = [f"K{n:03d}" for n in range(1, children + 1)]
    for child in ids:
        guardian = f"G{child[1:]}"
        handoff.roster.add_child(system(), child, "1-1", 1)
        handoff.guardian_list.authorise_guardian(admin(), child, guardian, "mother", PICKUP_CODE)
        handoff.enrolments.apply_for_care(admin(), child, TERM, guardian, list(WEEKDAYS), "B1", False, [], "")
        handoff.enrolments.review_by_class(admin(), child, TERM, True, "")
        handoff.enrolments.review_by_school(admin(), child, TERM, True, "")
        handoff.enrolments.arrange(admin(), child, TERM, "P1")
        handoff.enrolments.sign_agreement(admin(), child, TERM, guardian, [guardian], None, starts, ends)
    tokens = {staff_id: handoff.staff.issue_token(system(), staff_id, timedelta(days=1))["token"] for staff_id in STAFF}
    return School(ids, tokens)
