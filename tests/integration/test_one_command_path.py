"""Every state change takes the one command path: the role is checked, a retried Idempotency-Key gets the stored
answer and records nothing, and a refusal records nothing. The set-up commands once saved directly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

import pytest

from aggregates.staff import Role
from service.application.context import Actor, CommandContext, WrongRoleError, operator_context
from service.application.handoff import Handoff
from tests.support import DISTRICT, SCHOOL, ctx, make_handoff, setup_school

NEW_SCHOOL = "S9"
Command = Callable[[Handoff, CommandContext], Any]
SET_UP: dict[str, tuple[str, Command]] = {
    "register_school": (
        NEW_SCHOOL,
        lambda h, c: h.setup.register_school(c, "Ninth School", DISTRICT, "Asia/Shanghai"),
    ),
    "add_place": (SCHOOL, lambda h, c: h.setup.add_place(c, "T9", "temporary_class", "临时9班", "Class 9")),
    "schedule_term": (SCHOOL, lambda h, c: h.setup.schedule_term(c, "2027-28", date(2027, 9, 1), date(2028, 7, 1), 90)),
    "add_release_batch": (SCHOOL, lambda h, c: h.setup.add_release_batch(c, "B9", "第九批", "Batch 9", time(18, 0))),
    "schedule_session": (
        SCHOOL,
        lambda h, c: h.setup.schedule_session(c, "winter_spring", "作业辅导", ["mon"], time(15, 30), time(16, 30)),
    ),
    "add_child": (SCHOOL, lambda h, c: h.roster.add_child(c, "C9", "1-1", 1)),
    "register_staff": (SCHOOL, lambda h, c: h.staff.register_staff(c, "t9", Role.TEACHER, DISTRICT)),
    "issue_token": (SCHOOL, lambda h, c: h.staff.issue_token(c, "t1", timedelta(days=1))),
    "revoke_tokens": (SCHOOL, lambda h, c: h.staff.revoke_tokens(c, "t2", "tablet lost", None)),
}


@pytest.fixture
def handoff() -> Handoff:
    found = make_handoff()
    setup_school(found)
    found.staff.issue_token(operator_context(SCHOOL), "t2", timedelta(days=1))
    return found


def recorded(handoff: Handoff) -> int:
    return handoff.recorder.max_notification_id() or 0


@pytest.mark.parametrize("command", SET_UP)
def test_a_set_up_command_checks_the_role_and_records_nothing_when_refused(handoff: Handoff, command: str) -> None:
    scope, run = SET_UP[command]
    before = recorded(handoff)
    with pytest.raises(WrongRoleError):
        run(handoff, ctx(Actor("t1", Role.TEACHER, scope, DISTRICT), school=scope))
    assert recorded(handoff) == before


@pytest.mark.parametrize("command", SET_UP)
def test_a_set_up_command_retried_with_its_key_gets_the_stored_answer(handoff: Handoff, command: str) -> None:
    scope, run = SET_UP[command]
    retried = ctx(Actor("a1", Role.ADMIN, scope, DISTRICT), key=f"retry-{command}", school=scope)
    first = run(handoff, retried)
    after_first = recorded(handoff)
    again = run(handoff, retried)
    assert recorded(handoff) == after_first
    assert first["replayed"] is False
    assert again["replayed"] is True
    assert {k: v for k, v in again.items() if k not in ("replayed", "token")} == {
        k: v for k, v in first.items() if k not in ("replayed", "token")
    }


def test_a_retried_token_request_never_shows_the_secret_again_and_the_log_never_holds_it(handoff: Handoff) -> None:
    retried = ctx("admin", key="retry-token")
    first = handoff.staff.issue_token(retried, "t1", timedelta(days=1))
    again = handoff.staff.issue_token(retried, "t1", timedelta(days=1))
    assert handoff.staff.authenticate(first["token"]) is not None
    assert again["token"] is None
    secret = first["token"].rsplit(".", 1)[1]
    stored = handoff.recorder.select_notifications(1, recorded(handoff))
    assert not any(secret.encode() in row.state for row in stored)


def test_the_role_is_checked_before_the_priority_categories(handoff: Handoff) -> None:
    with pytest.raises(WrongRoleError):
        handoff.enrolments.apply_for_care(ctx("gate"), "C3", "2026-27", "G1", ["mon"], "B1", False, ["rich"], "")


def test_the_role_is_checked_before_the_teachers_and_venues_are(handoff: Handoff) -> None:
    with pytest.raises(WrongRoleError):
        handoff.planning.form_classes(ctx("teacher"), "2026-27", [], [])
