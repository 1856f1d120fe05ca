"""The `handoff` command on real PostgreSQL: seeding the demo school, issuing and revoking staff tokens."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from aggregates.staff import Role
from projections import catalog
from service.application.context import Actor
from service.application.handoff import Handoff
from service.cli.main import app
from service.infra.key_store import PostgresKeyStore
from service.infra.settings import postgres_env
from service.infra.signing_keys import load_keys
from tests.support import SECRET, ctx
from tests.witness_support import bureau_witness, served

TOKEN = re.compile(r"hs1\.[0-9a-f]{32}\.[0-9a-f]{8}\.[A-Za-z0-9_-]+")


@pytest.fixture
def cli_env(fresh_postgres_url: str, tmp_path: Path) -> dict[str, str]:
    return {"HANDOFF_DATABASE_URL": fresh_postgres_url, "HANDOFF_DATA_DIR": str(tmp_path), "HANDOFF_SECRET_KEY": SECRET}


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def reader(env: dict[str, str]) -> Handoff:
    return Handoff(postgres_env(env["HANDOFF_DATABASE_URL"]), secret_key=SECRET)


def test_seed_demo_creates_the_school_once_and_prints_a_token_per_role(cli_env: dict[str, str]) -> None:
    first = run(cli_env, "seed-demo")
    assert "created" in first
    roles = dict(re.findall(r"^\s+(\w+)\s+[\w-]+\s+(hs1\.\S+)$", first, re.MULTILINE))
    assert set(roles) == {"gate", "teacher", "duty_leader", "admin", "regulator"}
    handoff = reader(cli_env)
    assert handoff.staff.authenticate(roles["gate"]).staff_id == "gate-1"
    children = [handoff.roster_entry("demo-school", f"C{n:04d}") for n in (1, 240)]
    assert {c.grade for c in children} == {1, 6}
    assert len([p for p in handoff.school("demo-school").places.values() if p.kind == "temporary_class"]) >= 6
    events_after_first = handoff.recorder.max_notification_id()
    second = run(cli_env, "seed-demo")
    assert "already present" in second
    assert dict(re.findall(r"^\s+(\w+)\s+[\w-]+\s+(hs1\.\S+)$", second, re.MULTILINE)) == roles
    assert handoff.recorder.max_notification_id() == events_after_first
    handoff.close()


def test_staff_tokens_are_issued_stored_as_hashes_and_revoked(cli_env: dict[str, str]) -> None:
    run(cli_env, "seed-demo")
    token = TOKEN.search(
        run(cli_env, "staff", "issue", "--school", "demo-school", "--staff", "teacher-9", "--role", "teacher")
    ).group(0)
    handoff = reader(cli_env)
    member = handoff.staff.authenticate(token)
    assert member is not None and member.role == "teacher"
    secret = token.rsplit(".", 1)[1]
    stored = b"".join(e.state for e in handoff.recorder.select_events(member.id))
    assert secret.encode() not in stored
    assert "revoked 1 token" in run(cli_env, "staff", "revoke", "--school", "demo-school", "--staff", "teacher-9")
    assert handoff.staff.authenticate(token) is None
    handoff.close()


def test_a_regulator_token_is_scoped_to_a_district(cli_env: dict[str, str]) -> None:
    run(cli_env, "seed-demo")
    output = run(
        cli_env, "staff", "issue", "--district", "demo-district", "--staff", "inspector-2", "--role", "regulator"
    )
    member = reader(cli_env).staff.authenticate(TOKEN.search(output).group(0))
    assert (member.scope_id, member.role) == ("demo-district", "regulator")


def test_project_rebuild_builds_a_new_version_and_switches_reads_to_it(cli_env: dict[str, str]) -> None:
    run(cli_env, "seed-demo")
    assert "occupancy: version 1 is live" in run(cli_env, "project", "rebuild", "occupancy")
    assert "occupancy: version 2 is live" in run(cli_env, "project", "rebuild", "occupancy")
    with psycopg.connect(cli_env["HANDOFF_DATABASE_URL"]) as conn:
        assert catalog.active_version(conn, "occupancy") == 2
        rows = conn.execute("SELECT count(*) FROM occupancy_v2_roster").fetchone()
    assert rows == (240,)
    status = json.loads(run(cli_env, "project", "status"))
    assert status["occupancy"]["state"] == "live" and status["occupancy"]["lag_events"] == 0


def test_project_rebuild_refuses_an_unknown_read_model(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["project", "rebuild", "nonsense"], env=cli_env)
    assert result.exit_code != 0
    assert "unknown read model" in result.output


SIMPLE_CSV = (
    "child_id,given_name,family_name,sex,home_class,grade,homeroom_teacher_id,guardian1_name,guardian1_relation,"
    "guardian1_phone\n"
    "S-1,Alice,Example,female,3-1,3,T-1,Pat Example,parent,+1 555 0101\n"
    "S-2,Bob,Example,male,3-1,3,T-1,Pat Example,parent,+1 555 0101\n"
)


def test_roster_import_from_the_command_line_is_all_or_nothing(cli_env: dict[str, str], tmp_path: Path) -> None:
    run(cli_env, "seed-demo")
    good = tmp_path / "roster.csv"
    good.write_text(SIMPLE_CSV, encoding="utf-8")
    assert json.loads(run(cli_env, "roster", "import", "--school", "demo-school", str(good)))["children_added"] == 2
    assert json.loads(run(cli_env, "roster", "import", "--school", "demo-school", str(good)))["children_added"] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(SIMPLE_CSV.replace("3-1,3,T-1,Pat", "3-1,30,T-1,Pat").replace("S-2", "S 2"), encoding="utf-8")
    result = CliRunner().invoke(app, ["roster", "import", "--school", "demo-school", str(bad)], env=cli_env)
    assert result.exit_code == 1
    assert "bad_roster_file" in result.output and "bad.csv:2" in result.output and "bad.csv:3" in result.output


def test_planning_from_the_command_line(cli_env: dict[str, str]) -> None:
    run(cli_env, "seed-demo")
    run(
        cli_env,
        "plan",
        "term",
        "--school",
        "demo-school",
        "--term",
        "next",
        "--starts",
        "2030-09-01",
        "--ends",
        "2031-01-20",
        "--places",
        "50",
    )
    run(
        cli_env,
        "plan",
        "batch",
        "--school",
        "demo-school",
        "--code",
        "B9",
        "--ends",
        "18:30",
        "--zh",
        "第九批",
        "--en",
        "Ninth",
    )
    opened = run(
        cli_env,
        "day",
        "open",
        "--school",
        "demo-school",
        "--date",
        "2030-09-02",
        "--duty-leaders",
        "duty-1,duty-2",
        "--guards",
        "gate-1,gate-2",
    )
    assert json.loads(opened)["state"] == "open"
    report = json.loads(run(cli_env, "coverage", "--school", "demo-school", "--term", "demo-term"))
    assert report["applications"] == 216 and report["everyone_who_applied_is_served"] is True


@pytest.fixture
def witnessed_env(cli_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    """The CLI's environment with a witness that follows its signing key (made here first)."""
    key = load_keys(tmp_path / "signing-key.pem")[0]
    with served(bureau_witness(tmp_path / "witness", key)) as witness:
        yield {**cli_env, "HANDOFF_WITNESS_URL": witness.url, "HANDOFF_WITNESS_KEY": witness.vkey}


def test_an_export_is_recorded_and_verifies_and_a_tampered_one_does_not(
    witnessed_env: dict[str, str], tmp_path: Path
) -> None:
    cli_env = witnessed_env
    run(cli_env, "seed-demo")
    handoff = Handoff(postgres_env(cli_env["HANDOFF_DATABASE_URL"]), secret_key=SECRET)
    teacher = Actor("teacher-1", Role.TEACHER, "demo-school", "demo-district")
    handoff.care.check_in(ctx(teacher, school="demo-school"), "C0001", "T01", None, None)
    handoff.incidents.open_incident(ctx(teacher, school="demo-school"), "injury", ["C0001"], [], "Fell", "inj-1")
    today = handoff.school("demo-school").service_day(handoff.clock()).isoformat()
    bundle = tmp_path / "bundle"
    output = run(
        cli_env,
        "export",
        "--school",
        "demo-school",
        "--from",
        today,
        "--to",
        today,
        "--out",
        str(bundle),
        "--reason",
        "督导检查 inspection",
        "--requested-by",
        "admin-1",
        "--with-names",
    )
    assert "exported" in output
    verified = CliRunner().invoke(app, ["verify", str(bundle)], env=cli_env)
    assert verified.exit_code == 0 and "VERIFIED" in verified.output
    export = ["export", "--school", "demo-school", "--from", today, "--to", today, "--reason", "督导检查 inspection"]
    refused = CliRunner().invoke(
        app, [*export, "--out", str(tmp_path / "named"), "--requested-by", "inspector-1", "--with-names"], env=cli_env
    )
    assert refused.exit_code == 1 and "names_not_allowed" in refused.output and not (tmp_path / "named").exists()
    pseudonymised = tmp_path / "pseudonymised"
    run(cli_env, *export, "--out", str(pseudonymised), "--requested-by", "inspector-1")
    offline = CliRunner().invoke(app, ["replay", "state", "--school", "demo-school", "--at", f"{today}T23:59:00+08:00",
                                       "--bundle", str(pseudonymised)], env=cli_env)  # fmt: skip
    assert offline.exit_code != 0 and "pseudonymised" in offline.output
    at = f"{today}T23:59:00+08:00"
    online = run(cli_env, "replay", "state", "--school", "demo-school", "--at", at)
    offline = run(
        {**cli_env, "HANDOFF_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
        "replay",
        "state",
        "--school",
        "demo-school",
        "--at",
        at,
        "--bundle",
        str(bundle),
    )
    assert offline == online, "the bundle alone replays to the same state as the school's server"
    assert [child["child_id"] for child in json.loads(offline)["children"]] == ["C0001"]
    incident = ["replay", "incident", "--school", "demo-school", "inj-1"]
    window = json.loads(run(cli_env, *incident))
    nowhere = {**cli_env, "HANDOFF_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    offline_window = json.loads(run(nowhere, *incident, "--bundle", str(bundle)))
    for replayed in (window, offline_window):  # positions offline are positions in the bundle
        [event.pop("position") for event in replayed["events"]]
    assert offline_window == window, "the bundle alone replays the incident as the school's server does"
    assert [(c["child_id"], c["custodian_id"]) for c in window["at_opening"]] == [("C0001", "teacher-1")]
    assert [e["type"] for e in window["events"]] == ["ChildCheckedIn", "IncidentOpened"]
    district = tmp_path / "district"
    run(
        cli_env,
        "export",
        "--district",
        "demo-district",
        "--from",
        today,
        "--to",
        today,
        "--out",
        str(district),
        "--reason",
        "district inspection",
    )
    assert list(json.loads((district / "manifest.json").read_text(encoding="utf-8"))["schools"]) == ["demo-school"]
    assert CliRunner().invoke(app, ["verify", str(district)], env=cli_env).exit_code == 0
    lines = (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()
    at = max(n for n, line in enumerate(lines) if "leaf" in json.loads(line))
    record = json.loads(lines[at])
    record["leaf"] = record["leaf"][:-2] + ("00" if record["leaf"][-2:] != "00" else "01")
    lines[at] = json.dumps(record)
    (bundle / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tampered = CliRunner().invoke(app, ["verify", str(bundle)], env=cli_env)
    assert tampered.exit_code == 1 and "NOT VERIFIED" in tampered.output
    with psycopg.connect(cli_env["HANDOFF_DATABASE_URL"]) as conn:
        recorded = conn.execute("SELECT count(*) FROM handoff_events WHERE topic = 'events.audit:AuditExportMade'")
        assert recorded.fetchone() == (3,)


def test_the_demo_shows_fictitious_chinese_names_sealed_like_real_ones(cli_env: dict[str, str]) -> None:
    run(cli_env, "seed-demo")
    handoff = Handoff(
        postgres_env(cli_env["HANDOFF_DATABASE_URL"]),
        secret_key=SECRET,
        keys=PostgresKeyStore(cli_env["HANDOFF_DATABASE_URL"], SECRET.encode()),
    )
    admin = Actor("admin-1", Role.ADMIN, "demo-school", "demo-district")
    names = {n: handoff.roster.child_card(admin, "demo-school", f"C{n:04d}")["name"] for n in range(1, 241)}
    assert all(names.values()) and len(set(names.values())) > 100
    assert any(name.startswith(("欧阳", "司马", "上官", "诸葛")) for name in names.values()), "compound surnames"
    assert any("·" in name and len(name) >= 8 for name in names.values()), "long minority names"
    with psycopg.connect(cli_env["HANDOFF_DATABASE_URL"]) as conn:
        stored = b"".join(bytes(row[0]) for row in conn.execute("SELECT state FROM handoff_events"))
    assert not [name for name in names.values() if name.encode() in stored], "names are sealed"
    handoff.close()


def test_demo_tokens_are_renewed_at_start_and_printed_with_their_staff_member(cli_env: dict[str, str]) -> None:
    first = run(cli_env, "seed-demo")
    holders = dict(re.findall(r"^\s+(\w+)\s+([\w-]+)\s+hs1\.\S+$", first, re.MULTILINE))
    assert holders == {"gate": "gate-1", "teacher": "teacher-1", "duty_leader": "duty-1", "admin": "admin-1"} | {
        "regulator": "inspector-1"
    }
    token_file = Path(cli_env["HANDOFF_DATA_DIR"]) / "demo-tokens.json"
    kept = json.loads(token_file.read_text())
    run(cli_env, "staff", "revoke", "--school", "demo-school", "--staff", "gate-1")  # as if it had expired
    again = dict(re.findall(r"^\s+(\w+)\s+[\w-]+\s+(hs1\.\S+)$", run(cli_env, "seed-demo"), re.MULTILINE))
    assert again["gate"] != kept["gate"] and again["teacher"] == kept["teacher"]
    handoff = reader(cli_env)
    assert handoff.staff.authenticate(again["gate"]).staff_id == "gate-1"
    assert json.loads(token_file.read_text()) == again
    handoff.close()
