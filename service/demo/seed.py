"""The demo school: 240 children in 12 home classes over six grades, guardians, staff of every role, and the
after-school service plan. Nine children in ten apply; each application goes through both reviews, the temporary
classes are formed by the schools' own rule, and every arranged child's safety agreement is signed.

Every child has a fictitious Chinese name (sealed, like a real one) and two named guardians, with demo pickup codes
1234 (first) and 5678 (second); some older children may leave alone from 17:00. Seeding goes through the ordinary
commands, so the demo obeys every rule."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from aggregates.enrolment import WEEKDAYS
from aggregates.school import SchoolNotFoundError
from aggregates.staff import Role
from service.application.context import Actor, operator_context
from service.application.handoff import Handoff
from service.demo.names import child_name, guardian_names

DEMO_SCHOOL = "demo-school"
DEMO_DISTRICT = "demo-district"
GRADES = range(1, 7)
CLASSES_PER_GRADE = 2
CHILDREN_PER_CLASS = 20
DEMO_TERM = "demo-term"
NOT_APPLYING = 10
"""Every tenth child does not apply: after-school care is voluntary."""
BATCHES = (
    ("B1", "第一批 17:00", "First batch 17:00", time(17, 0)),
    ("B2", "第二批 17:30", "Second batch 17:30", time(17, 30)),
    ("B3", "第三批 18:00", "Third batch 18:00", time(18, 0)),
)
VENUES = (
    *((f"R{n}", "classroom", f"{n}教室", f"Room {n}") for n in range(101, 109)),
    ("LIB", "club_room", "图书室", "Library"),
    ("ART", "club_room", "美术社团", "Art club"),
    ("PLAY", "playground", "操场", "Playground"),
    ("GATE", "gate", "校门", "School gate"),
)
DEMO_CODES = ("1234", "5678")
TOKEN_LIFETIME = timedelta(days=30)
DEMO_STAFF = {
    Role.GATE: ["gate-1", "gate-2"],
    Role.TEACHER: [f"teacher-{n}" for n in range(1, 9)],
    Role.DUTY_LEADER: ["duty-1", "duty-2"],
    Role.ADMIN: ["admin-1"],
}


RENEW_WITHIN = timedelta(days=7)
"""A demo token that expires sooner than this (or is no longer valid) is renewed at start."""
TOKEN_HOLDERS = {**{role.value: ids[0] for role, ids in DEMO_STAFF.items()}, Role.REGULATOR.value: "inspector-1"}
"""The staff member whose token is printed for each role."""


@dataclass(frozen=True)
class DemoSeed:
    """What a seeding run produced: one live token per role, and whose it is."""

    created: bool
    tokens: dict[str, str]
    holders: dict[str, str] = field(default_factory=lambda: dict(TOKEN_HOLDERS))


def seed_demo(handoff: Handoff, token_file: Path) -> DemoSeed:
    """Create the demo school unless it exists; keep live demo tokens in token_file (mode 600), renewing at every
    start those that expire within a week, so that the printed tokens always work."""
    try:
        handoff.school(DEMO_SCHOOL)
        created = False
    except SchoolNotFoundError:
        _create_school(handoff)
        created = True
    kept = json.loads(token_file.read_text()) if token_file.exists() and not created else {}
    tokens = {role: token if _live(handoff, token) else _issue(handoff, role) for role, token in kept.items()}
    tokens |= {role: _issue(handoff, role) for role in TOKEN_HOLDERS if role not in tokens}
    if tokens != kept:
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.write_text(json.dumps(tokens, indent=2))
        token_file.chmod(0o600)
    return DemoSeed(created=created, tokens=tokens)


def _create_school(handoff: Handoff) -> None:
    handoff.setup.register_school(
        operator_context(DEMO_SCHOOL), "示范小学 Demo Primary School", DEMO_DISTRICT, "Asia/Shanghai"
    )
    _plan(handoff)
    for role, staff_ids in DEMO_STAFF.items():
        for staff_id in staff_ids:
            handoff.staff.register_staff(operator_context(DEMO_SCHOOL), staff_id, role, DEMO_DISTRICT)
    handoff.staff.register_staff(operator_context(DEMO_DISTRICT), "inspector-1", Role.REGULATOR, DEMO_DISTRICT)
    admin = Actor("admin-1", Role.ADMIN, DEMO_SCHOOL, DEMO_DISTRICT)
    applicants = []
    for number, (home_class, grade) in enumerate(_home_classes(), start=1):
        child_id = f"C{number:04d}"
        _add_child(handoff, admin, child_id, home_class, grade)
        if number % NOT_APPLYING:
            _apply(handoff, admin, child_id, grade)
            applicants.append(child_id)
    _arrange(handoff, admin, applicants)


def _plan(handoff: Handoff) -> None:
    """A term around today, three release batches, the autumn sessions, and the venues."""
    today = datetime.now(timezone.utc).date()
    handoff.setup.schedule_term(
        operator_context(DEMO_SCHOOL), DEMO_TERM, today - timedelta(days=90), today + timedelta(days=270), 300
    )
    for code, zh, en, ends in BATCHES:
        handoff.setup.add_release_batch(operator_context(DEMO_SCHOOL), code, zh, en, ends)
    handoff.setup.schedule_session(
        operator_context(DEMO_SCHOOL), "summer_autumn", "作业辅导 homework", list(WEEKDAYS), time(15, 40), time(16, 40)
    )
    handoff.setup.schedule_session(
        operator_context(DEMO_SCHOOL),
        "summer_autumn",
        "社团活动 clubs and sport",
        list(WEEKDAYS),
        time(16, 40),
        time(17, 30),
    )
    for code, kind, zh, en in VENUES:
        handoff.setup.add_place(operator_context(DEMO_SCHOOL), code, kind, zh, en)


def _apply(handoff: Handoff, admin: Actor, child_id: str, grade: int) -> None:
    """The guardian's written application, and both reviews."""
    leaves_alone = grade >= 5 and int(child_id[1:]) % 4 == 0
    batch = BATCHES[min((grade - 1) // 2, 2)][0]
    handoff.enrolments.apply_for_care(
        operator_context(DEMO_SCHOOL, admin),
        child_id,
        DEMO_TERM,
        f"G{child_id[1:]}A",
        list(WEEKDAYS),
        batch,
        leaves_alone,
        [],
        "",
    )
    handoff.enrolments.review_by_class(operator_context(DEMO_SCHOOL, admin), child_id, DEMO_TERM, True, "")
    handoff.enrolments.review_by_school(operator_context(DEMO_SCHOOL, admin), child_id, DEMO_TERM, True, "")


def _arrange(handoff: Handoff, admin: Actor, applicants: list[str]) -> None:
    """The temporary classes, formed by the schools' rule, then every arranged child's signed agreement."""
    teachers = DEMO_STAFF[Role.TEACHER]
    rooms = [code for code, kind, _, _ in VENUES if kind == "classroom"]
    handoff.planning.form_classes(operator_context(DEMO_SCHOOL, admin), DEMO_TERM, teachers, rooms)
    term = handoff.school(DEMO_SCHOOL).terms[DEMO_TERM]
    for child_id in applicants:
        alone = time(17, 0) if handoff.enrolment(DEMO_SCHOOL, child_id, DEMO_TERM).self_release_requested else None
        guardians = [f"G{child_id[1:]}A", f"G{child_id[1:]}B"]
        handoff.enrolments.sign_agreement(
            operator_context(DEMO_SCHOOL, admin),
            child_id,
            DEMO_TERM,
            guardians[0],
            guardians,
            alone,
            term.starts_on,
            term.ends_on,
        )


def _home_classes() -> list[tuple[str, int]]:
    return [
        (f"{grade}-{section}", grade)
        for grade in GRADES
        for section in range(1, CLASSES_PER_GRADE + 1)
        for _ in range(CHILDREN_PER_CLASS)
    ]


def _add_child(handoff: Handoff, admin: Actor, child_id: str, home_class: str, grade: int) -> None:
    number = int(child_id[1:])
    family, given = child_name(number)
    sex = "female" if number % 2 else "male"
    handoff.roster.add_child(operator_context(DEMO_SCHOOL), child_id, home_class, grade, name=family + given, sex=sex)
    mother, father = guardian_names(number)
    for suffix, relation, code, name in (
        ("A", "mother", DEMO_CODES[0], mother),
        ("B", "father", DEMO_CODES[1], father),
    ):
        handoff.guardian_list.authorise_guardian(
            operator_context(DEMO_SCHOOL, admin), child_id, f"G{child_id[1:]}{suffix}", relation, code, name=name
        )


def _live(handoff: Handoff, token: str) -> bool:
    """Valid for at least another week."""
    member = handoff.staff.authenticate(token)
    if member is None:
        return False
    token_id = token.split(".")[2]
    return member.tokens[token_id].expires_at - handoff.clock() > RENEW_WITHIN


def _issue(handoff: Handoff, role: str) -> str:
    scope = DEMO_DISTRICT if role == Role.REGULATOR.value else DEMO_SCHOOL
    return handoff.staff.issue_token(operator_context(scope), TOKEN_HOLDERS[role], TOKEN_LIFETIME)["token"]
