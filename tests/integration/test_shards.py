"""Districts as shards: two shards (two databases of the test server), two districts, every request routed school →
district → shard, no school's records on the other shard, the province view summing both, and a district moved."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from datetime import date, timedelta
from datetime import time as clock_time
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from aggregates.staff import Role
from service.application.context import Actor, operator_context
from service.application.handoff import Handoff
from service.cli.main import app as cli
from service.fleet.move import MoveRefusedError, move_district
from service.fleet.shards import Fleet, Shard, fleet_opened
from service.http.shards import sharded_app
from service.infra.directory import Placement
from service.infra.embedded_postgres import create_database, drop_database
from service.infra.event_log import event_log
from service.infra.settings import Settings
from service.processes.checkpoints import Checkpointer, checkpoints
from tests.support import SECRET, TERM, Clock, ctx, enrol

PLACED = {"S1": "D1", "S3": "D1", "S2": "D2"}
"""Schools and their districts: D1 on shard a, D2 on shard b (HANDOFF_DISTRICT_SHARDS)."""
DEVICE = {"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00"}
DAY = "2026-11-30"
BESIDE = ("child_keys", "child_photos")


@pytest.fixture
def settings(postgres_server_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A directory database and two shard databases; the environment says so, as it would to `handoff`."""
    names = {part: f"handoff_shard_{part}_{os.getpid()}_{secrets.token_hex(3)}" for part in ("home", "a", "b")}
    urls = {part: create_database(postgres_server_url, name) for part, name in names.items()}
    env = {
        "HANDOFF_DATABASE_URL": urls["home"],
        "HANDOFF_SHARDS": f'{{"a": "{urls["a"]}", "b": "{urls["b"]}"}}',
        "HANDOFF_DISTRICT_SHARDS": '{"D1": "a", "D2": "b"}',
        "HANDOFF_DATA_DIR": str(tmp_path),
        "HANDOFF_SECRET_KEY": SECRET,
        "HANDOFF_NOTIFIER": "off",
        "HANDOFF_CHECKPOINT_INTERVAL": "3600",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield Settings()
    for name in names.values():
        drop_database(postgres_server_url, name)


@pytest.fixture
def fleet(settings: Settings) -> Iterator[Fleet]:
    for school, district in PLACED.items():  # the operator registers each school: that places it in the directory
        command = ["school", "register", "--school", school, "--name", "小学", "--district", district]
        registered = CliRunner().invoke(cli, command)
        assert registered.exit_code == 0, registered.output
    clock = Clock()
    with fleet_opened(settings, with_projector=True, clock=clock) as opened:
        for school, district in PLACED.items():
            staff_and_children(opened.of_school(school)[0].handoff, school, district)
        yield opened


def staff_and_children(handoff: Handoff, school: str, district: str) -> None:
    """Places T1 and T2, teachers t1 and t2, admin a1, the term and its batch, and C1 enrolled with guardian G1."""
    admin = Actor("a1", Role.ADMIN, school, district)
    system = lambda: operator_context(school)  # noqa: E731
    for code in ("T1", "T2"):
        handoff.setup.add_place(system(), code, "temporary_class", code, code)
    for staff_id, role in (("t1", Role.TEACHER), ("t2", Role.TEACHER), ("a1", Role.ADMIN)):
        handoff.staff.register_staff(system(), staff_id, role, district)
    handoff.setup.schedule_term(system(), TERM, date(2026, 9, 1), date(2027, 6, 30), 100)
    handoff.setup.add_release_batch(system(), "B2", "第二批", "Second batch", clock_time(17, 30))
    handoff.roster.add_child(system(), "C1", "3-1", 3)
    handoff.guardian_list.authorise_guardian(ctx(admin, school=school), "C1", "G1", "parent", "1234")
    enrol(handoff, admin, school, "C1", ["G1"], None)


def token(fleet: Fleet, scope: str, staff_id: str, role: Role | None = None) -> str:
    """A bearer token from the shard that holds the school or district (the first shard for the province)."""
    shard = fleet.of_school(scope)[0] if scope.startswith("S") else fleet.of_district(scope)[0]
    if role is not None:
        shard.handoff.staff.register_staff(operator_context(scope), staff_id, role, scope)
    issued = shard.handoff.staff.issue_token(operator_context(scope), staff_id, timedelta(days=1))
    return str(issued["token"])


def bearer(value: str, key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}", "Idempotency-Key": key or secrets.token_hex(8)}


def school_ids(handoff: Handoff) -> set[str]:
    """Every school (or district) whose events this shard's log holds, read from its database."""
    found = handoff.recorder.select_notifications(1, 100_000)
    return {handoff.mapper.to_domain_event(stored).school_id for stored in found}


def tree_head(shard: Shard, school: str) -> tuple[int, str]:
    """The school's tree head as its shard signs it now: the size and root a witness compares with what it saw."""
    signer = Checkpointer(shard.url, event_log(shard.handoff), Ed25519PrivateKey.generate(), shard.handoff.clock)
    signer.run_once()
    newest = checkpoints(shard.url, [school])[-1]
    return newest.tree_size, newest.root_hex


def eventually(read: Any, wanted: Any, seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while (answer := read()) != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
    return answer


def test_districts_on_two_shards(fleet: Fleet, settings: Settings) -> None:
    api = TestClient(sharded_app(fleet, settings))
    teachers = {school: token(fleet, school, "t1") for school in PLACED}
    for school in PLACED:  # each school's command reaches its own shard
        answer = api.post(
            f"/api/v1/schools/{school}/children/C1/check-in", json={**DEVICE, "place_code": "T1"},
            headers=bearer(teachers[school], key=f"check-in-{school}"),
        )  # fmt: skip
        assert answer.status_code == 200, answer.json()

    a, b = fleet.shards["a"].handoff, fleet.shards["b"].handoff
    assert school_ids(a) == {"S1", "S3"} and school_ids(b) == {"S2"}
    for shard, schools in (("a", ["S1", "S3"]), ("b", ["S2"])):
        with psycopg.connect(fleet.shards[shard].url) as conn:
            kept = conn.execute("SELECT DISTINCT school_id FROM child_keys ORDER BY 1").fetchall()
        assert [row[0] for row in kept] == schools

    elsewhere = api.post(
        "/api/v1/schools/S2/children/C1/absence", json={**DEVICE, "reason": "ill"}, headers=bearer(teachers["S1"])
    )
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (401, "invalid_token")  # unknown on shard b
    other_school = api.post(
        "/api/v1/schools/S3/children/C1/absence", json={**DEVICE, "reason": "ill"}, headers=bearer(teachers["S1"])
    )
    assert other_school.status_code == 403  # same shard, another school: refused as with one database

    province = token(fleet, "P1", "p1", Role.PROVINCE_REGULATOR)
    summary = lambda: api.get(  # noqa: E731
        "/api/v1/province/summary", params={"from": DAY, "to": DAY}, headers=bearer(province)
    ).json()
    served = lambda: {d["district_id"]: (d["shard"], d["children_served"]) for d in summary()["districts"]}  # noqa: E731
    assert eventually(served, {"D1": ("a", 2), "D2": ("b", 1)}) == {"D1": ("a", 2), "D2": ("b", 1)}
    assert (summary()["totals"]["children_served"], summary()["totals"]["schools"]) == (3, 3)
    refused = api.get("/api/v1/province/summary", params={"from": DAY, "to": DAY}, headers=bearer(teachers["S1"]))
    assert refused.status_code == 403

    health = api.get("/health").json()
    assert sorted(health["shards"]) == ["a", "b"] and health["shards"]["b"]["head"] > 0
    scraped = api.get("/metrics").text
    assert 'handoff_event_log_head{shard="a"}' in scraped and 'handoff_event_log_head{shard="b"}' in scraped
    for shard in ("a", "b"):  # each shard's pools, and the role of the server they are on (a Patroni cluster each)
        port = conninfo_to_dict(fleet.shards[shard].url)["port"]
        on_primary = {"role": "primary", "server": f"127.0.0.1:{port}"}
        assert health["shards"][shard]["database"] == dict.fromkeys(("events", "views", "keys"), on_primary)
        labels = f'pool="events",role="primary",server="127.0.0.1:{port}",shard="{shard}"'
        assert f"handoff_database_primary{{{labels}}} 1.0" in scraped

    regulator = token(fleet, "D2", "r2", Role.REGULATOR)
    district = api.get("/api/v1/districts/D2/summary", params={"from": DAY, "to": DAY}, headers=bearer(regulator))
    assert [item["school_id"] for item in district.json()["items"]] == ["S2"]

    signed_on_b = tree_head(fleet.shards["b"], "S2")
    fleet.directory.begin_move("D2", "a")
    moving = api.post(
        "/api/v1/schools/S2/children/C1/transfer", json={**DEVICE, "to_custodian_id": "t2", "to_place_code": "T2"},
        headers=bearer(teachers["S2"]),
    )  # fmt: skip
    assert (moving.status_code, moving.json()["code"]) == (503, "district_moving")
    assert api.get("/api/v1/schools/S2/children/C1", headers=bearer(teachers["S2"])).status_code == 200
    fleet.directory.end_move("D2", "b")

    report = move_district(fleet, "D2", "a", settle=0.1, say=lambda _: None)
    assert (report.source, report.target, report.schools) == ("b", "a", ["S2"])
    assert fleet.directory.school("S2").shard == "a"  # type: ignore[union-attr]
    again = api.post(
        "/api/v1/schools/S2/children/C1/check-in", json={**DEVICE, "place_code": "T1"},
        headers=bearer(teachers["S2"], key="check-in-S2"),
    )  # fmt: skip
    assert again.json()["replayed"] is True  # the stored answer moved with the streams
    assert tree_head(fleet.shards["a"], "S2") == signed_on_b  # the same tree on its new shard: a witness sees no fork
    before = len(b.recorder.select_notifications(1, 100_000))
    moved = api.post(
        "/api/v1/schools/S2/children/C1/transfer", json={**DEVICE, "to_custodian_id": "t2", "to_place_code": "T2"},
        headers=bearer(teachers["S2"]),
    )  # fmt: skip
    assert moved.status_code == 200, moved.json()
    assert len(b.recorder.select_notifications(1, 100_000)) == before  # the old shard takes nothing more
    assert school_ids(a) == {"S1", "S3", "S2", "D2", "P1"}
    with psycopg.connect(fleet.shards["a"].url) as conn:
        kept = conn.execute("SELECT DISTINCT school_id FROM child_keys ORDER BY 1").fetchall()
    assert [row[0] for row in kept] == ["S1", "S2", "S3"]  # the children's keys moved too
    with psycopg.connect(fleet.shards["b"].url) as conn:  # and left: an erasure on the target must leave no key behind
        left = [conn.execute(f"SELECT count(*) FROM {table} WHERE school_id = 'S2'").fetchone() for table in BESIDE]
    assert left == [(0,), (0,)]
    assert eventually(served, {"D1": ("a", 2), "D2": ("a", 1)}) == {"D1": ("a", 2), "D2": ("a", 1)}
    assert summary()["totals"]["children_served"] == 3  # the old shard's copy is not counted twice

    with pytest.raises(MoveRefusedError, match="already holds"):  # shard b still has D2's old copy
        move_district(fleet, "D2", "b", settle=0.1, say=lambda _: None)
    assert fleet.directory.district("D2") == Placement("D2", "a", None)  # stays, with its writes open

    status = CliRunner().invoke(cli, ["project", "status", "--shard", "b"])
    assert status.exit_code == 0 and '"occupancy"' in status.output, status.output
    assert CliRunner().invoke(cli, ["project", "status", "--shard", "c"]).exit_code == 2
