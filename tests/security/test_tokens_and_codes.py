"""Staff tokens are stored only as hashes and can be revoked; guessing a pickup code is locked out, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from service.application.context import operator_context
from service.application.staff import token_hash
from service.infra.settings import postgres_env
from tests.api.conftest import Tablet, make_tablet
from tests.security.conftest import caller_tokens
from tests.support import SCHOOL, Clock, make_handoff


def stored_text(url: str) -> str:
    """Every row of every table in the database, as text (stored events decoded from their bytes)."""
    parts: list[str] = []
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'"
        ).fetchall()
        assert tables
        for schema, table in tables:
            for row in connection.execute(f'SELECT * FROM "{schema}"."{table}"'):  # noqa: S608 - catalogue names
                for value in row:
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                    parts.append(raw.decode("utf-8", "replace"))
    return "\n".join(parts)


def test_tokens_are_stored_only_as_hashes(fresh_postgres_url: str) -> None:
    handoff = make_handoff(postgres_env(fresh_postgres_url), Clock())
    callers = caller_tokens(handoff)
    handoff.close()
    tokens = [*callers.own.values(), *callers.other.values(), *callers.revoked.values()]
    stored = stored_text(fresh_postgres_url)
    for token in tokens:
        secret = token.split(".")[3]
        assert token_hash(secret) in stored  # the scan sees where tokens are kept
        assert secret not in stored
        assert token not in stored


@pytest.fixture
def tablet() -> Iterator[Tablet]:
    handoff = make_handoff(clock=Clock())
    yield make_tablet(handoff)
    handoff.close()


def test_revoking_a_staff_members_tokens_refuses_them_from_the_next_request(tablet: Tablet) -> None:
    second = tablet.handoff.staff.issue_token(operator_context(SCHOOL), "t1", timedelta(days=1))["token"]
    assert tablet.day("teacher").status_code == 200
    assert tablet.day(second).status_code == 200
    assert tablet.handoff.staff.revoke_tokens(operator_context(SCHOOL), "t1", "left the school", None)["revoked"] == 2
    for token in ("teacher", second):
        response = tablet.day(token)
        assert (response.status_code, response.json()["code"]) == (401, "invalid_token")
    assert tablet.day("gate").status_code == 200  # other staff are untouched


def arrive(tablet: Tablet, guardian: str, code: str | None) -> object:
    verification = {"verification": "pickup_code", "pickup_code": code} if code else {"verification": "id_document"}
    return tablet.post("guardian-arrival", {"guardian_id": guardian, **verification}, who="gate")


def test_three_wrong_pickup_codes_lock_code_entry_until_a_duty_leader_lifts_it(tablet: Tablet) -> None:
    assert tablet.post("check-in", {"place_code": "T1"}).status_code == 200
    for guess, guardian in (("0000", "G1"), ("1111", "G2"), ("2222", "G1")):  # guesses count across guardians
        wrong = arrive(tablet, guardian, guess)
        assert wrong.status_code == 200 and wrong.json()["outcome"] == "refused", wrong.text
    count = tablet.event_count()
    guesses = [f"{n:04d}" for n in range(1200, 1300)]  # the right code, 1234, is among them
    for guess in guesses:
        locked = arrive(tablet, "G1", guess)
        assert (locked.status_code, locked.json()["refusal"]["code"]) == (200, "pickup_code_locked"), guess
    assert tablet.event_count() == count + 2 * len(guesses)  # every attempt is recorded (with its answer), none checked
    assert tablet.day().json()["custody"]["code_entry_locked"] is True

    assert arrive(tablet, "G2", None).json()["outcome"] == "recorded"  # an identity document still works
    not_allowed = tablet.post("pickup-code-unlock", {"reason": "guardian showed id"}, who="teacher")
    assert (not_allowed.status_code, not_allowed.json()["code"]) == (403, "role_not_allowed")
    assert tablet.post("pickup-code-unlock", {"reason": "guardian showed id"}, who="duty_leader").status_code == 200
    assert arrive(tablet, "G1", "1234").json()["outcome"] == "recorded"
