"""`handoff incident|headcount|emergency|messages` on real PostgreSQL: the same commands and role checks as over HTTP,
acting as the staff member named by --as."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.application.handoff import Handoff
from service.cli.main import app
from service.infra.settings import postgres_env
from tests.support import SECRET, make_handoff, setup_school


@pytest.fixture
def school(fresh_postgres_url: str, tmp_path: Path) -> Iterator[tuple[Handoff, dict[str, str]]]:
    handoff = make_handoff(postgres_env(fresh_postgres_url))
    setup_school(handoff)
    env = {"HANDOFF_DATABASE_URL": fresh_postgres_url, "HANDOFF_DATA_DIR": str(tmp_path), "HANDOFF_SECRET_KEY": SECRET}
    yield handoff, env
    handoff.close()


def run(env: dict[str, str], *args: str, fails: bool = False) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == (1 if fails else 0), result.output
    return result.output


def answer(env: dict[str, str], *args: str) -> dict:
    return json.loads(run(env, *args))


def test_an_incident_from_opening_to_resolution_on_the_command_line(school: tuple[Handoff, dict[str, str]]) -> None:
    handoff, env = school
    at = ["--school", "S1"]
    opened = answer(
        env, "incident", "open", *at, "--kind", "injury", "--children", "C1", "--staff", "t1",
        "--summary", "Fell in the playground", "--id", "inj-7", "--as", "t1",
    )  # fmt: skip
    assert (opened["incident_id"], opened["status"], opened["children"]) == ("inj-7", "open", ["C1"])
    answer(env, "incident", "note", *at, "inj-7", "--note", "Ice pack applied", "--as", "t1")
    answer(env, "incident", "notified", *at, "inj-7", "--child", "C1", "--guardian", "G1", "--not-reached")
    answer(env, "incident", "escalate", *at, "inj-7", "--to", "duty_leader", "--reason", "guardian not reached")
    linked = answer(env, "incident", "link", *at, "inj-7", "--children", "C2", "--as", "d1")
    assert linked["children"] == ["C1", "C2"]

    refused = run(env, "incident", "resolve", *at, "inj-7", "--outcome", "Collected", "--as", "t1", fails=True)
    assert "refused (role_not_allowed)" in refused
    resolved = answer(env, "incident", "resolve", *at, "inj-7", "--outcome", "Collected by G2", "--as", "d1")
    assert (resolved["status"], resolved["outcome"]) == ("resolved", "Collected by G2")

    listed = answer(env, "incident", "list", *at, "--as", "d1")
    assert [(i["incident_id"], i["status"], i["notes"]) for i in listed] == [("inj-7", "resolved", 1)]
    shown = answer(env, "incident", "show", *at, "inj-7", "--as", "d1")
    assert [e["type"] for e in shown["timeline"]] == [
        "IncidentOpened",
        "IncidentNoteAdded",
        "GuardianNotified",
        "IncidentEscalated",
        "IncidentLinked",
        "IncidentResolved",
    ]
    assert handoff.incident("S1", "inj-7").status == "resolved"
    assert "refused (staff_not_found)" in run(env, "incident", "list", *at, "--as", "nobody", fails=True)


def test_headcounts_emergency_mode_and_the_outbox_on_the_command_line(school: tuple[Handoff, dict[str, str]]) -> None:
    handoff, env = school
    at = ["--school", "S1"]
    counted = answer(env, "headcount", *at, "--place", "T1", "--present", "C1", "--as", "t1")
    assert (counted["expected"], counted["extra"]) == ([], ["C1"])
    assert "refused (role_not_allowed)" in run(
        env, "emergency", "enter", *at, "--point", "GATE", "--reason", "fire alarm", "--as", "t1", fails=True
    )
    entered = answer(env, "emergency", "enter", *at, "--point", "GATE", "--reason", "fire alarm", "--as", "d1")
    assert entered["emergency"] is True
    assert answer(env, "emergency", "roll", *at, "--as", "d1")["emergency"] is True
    assert answer(env, "emergency", "leave", *at, "--reason", "all clear", "--as", "d1")["emergency"] is False
    assert "refused (views_not_ready)" in run(env, "messages", *at, "--as", "d1", fails=True)
