"""The command line refuses what HTTP refuses (#13): typed text with control characters, absurd dates, tokens for a
school that does not exist; and a duty leader reviews a failed confirmation there too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.application.handoff import Handoff
from service.cli.main import app
from service.infra.settings import postgres_env
from tests.support import DISTRICT, SECRET, make_handoff, setup_school


@pytest.fixture
def env(fresh_postgres_url: str, tmp_path: Path) -> Iterator[tuple[Handoff, dict[str, str]]]:
    handoff = make_handoff(postgres_env(fresh_postgres_url))
    setup_school(handoff)
    yield (
        handoff,
        {
            "HANDOFF_DATABASE_URL": fresh_postgres_url,
            "HANDOFF_DATA_DIR": str(tmp_path),
            "HANDOFF_SECRET_KEY": SECRET,
        },
    )
    handoff.close()


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_a_token_for_a_school_that_does_not_exist_is_refused(env: tuple[Handoff, dict[str, str]]) -> None:
    handoff, variables = env
    count = handoff.recorder.max_notification_id()
    code, output = run(variables, "staff", "issue", "--school", "NOPE", "--district", DISTRICT, "--staff", "x",
                       "--role", "teacher")  # fmt: skip
    assert (code, "refused (school_not_found)" in output) == (1, True), output
    code, output = run(variables, "staff", "issue", "--school", "S1", "--district", "D9", "--staff", "x",
                       "--role", "teacher")  # fmt: skip
    assert (code, "refused (school_in_other_district)" in output) == (1, True), output
    assert handoff.recorder.max_notification_id() == count


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_day_opening_for_an_absurd_date_is_refused(env: tuple[Handoff, dict[str, str]], day: str) -> None:
    handoff, variables = env
    count = handoff.recorder.max_notification_id()
    code, output = run(variables, "day", "open", "--school", "S1", "--date", day, "--duty-leaders", "d1,d2",
                       "--guards", "g1,g2")  # fmt: skip
    assert (code, "date_out_of_range" in output) == (1, True), output
    assert handoff.recorder.max_notification_id() == count


@pytest.mark.parametrize("text", ["fell\x00over", "fell\nover", "x" * 1001])
def test_typed_text_with_control_characters_or_too_long_is_refused(
    env: tuple[Handoff, dict[str, str]], text: str
) -> None:
    handoff, variables = env
    count = handoff.recorder.max_notification_id()
    code, output = run(variables, "incident", "open", "--school", "S1", "--kind", "injury", "--children", "C1",
                       "--staff", "t1", "--summary", text)  # fmt: skip
    assert code == 2 and ("text_control_characters" in output or "text_too_long" in output), output
    assert handoff.recorder.max_notification_id() == count


def test_a_confirmation_review_on_the_command_line(env: tuple[Handoff, dict[str, str]]) -> None:
    _, variables = env
    at = ["--school", "S1", "--child", "C1", "--guardian", "G1", "--reason", "known aunt"]
    code, output = run(variables, "confirmation", "review", *at, "--as", "t1")
    assert (code, "refused (role_not_allowed)" in output) == (1, True), output
    code, output = run(variables, "confirmation", "review", *at, "--as", "d1")
    assert (code, "refused (no_mismatch_to_review)" in output) == (1, True), output
