"""Audit exports over HTTP on PostgreSQL: a school admin or the district's regulator downloads a zipped bundle that
verifies on its own; every export is recorded as a disclosure, and refusals record nothing."""

from __future__ import annotations

import base64
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient
from httpx2 import Response

from events.audit import AuditExportMade
from replay.checkpoints import load_or_create_signing_key
from replay.notes import fingerprint, raw_public_key
from replay.verify import verify_bundle
from service.application.handoff import Handoff
from service.audit.exports import Exporter
from service.http.app import create_app
from service.infra.settings import postgres_env
from service.processes.witness_client import STAND_IN_NAME, StandInWitness, WitnessClient
from tests.api.conftest import two_schools_with_tokens
from tests.support import Clock, ctx, make_handoff
from tests.witness_support import VKEY, bureau_witness, served

BODY = {
    "device_id": "laptop-1",
    "device_time": "2026-11-30T18:00:00+08:00",
    "day_from": "2026-11-30",
    "day_to": "2026-11-30",
    "reason": "督导检查 inspection",
}


class Desk:
    def __init__(self, handoff: Handoff, url: str, key_file: Path, witness: WitnessClient | None = None) -> None:
        self.handoff, self.url = handoff, url
        self.tokens = two_schools_with_tokens(handoff)
        api = create_app(handoff)
        api.state.exporter = Exporter(handoff, url, load_or_create_signing_key(key_file), witness=witness)
        self.client = TestClient(api)
        self.fingerprint = self.client.get("/api/v1/signing-keys").json()["current"]["fingerprint"]

    def export(self, who: str, path: str = "/api/v1/schools/S1/exports", key: str = "", **body: object) -> Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", "Idempotency-Key": key or uuid.uuid4().hex}
        return self.client.post(path, json={**BODY, **body}, headers=headers)

    def disclosures(self) -> list[AuditExportMade]:
        rows = self.handoff.recorder.select_notifications(1, 10_000, topics=[get_topic(AuditExportMade)])
        return [self.handoff.mapper.to_domain_event(row) for row in rows]


@pytest.fixture
def desk(fresh_postgres_url: str, tmp_path: Path) -> Iterator[Desk]:
    handoff = make_handoff(postgres_env(fresh_postgres_url), Clock())
    witness = bureau_witness(tmp_path / "witness", load_or_create_signing_key(tmp_path / "key.pem"))
    with served(witness) as client:
        found = Desk(handoff, fresh_postgres_url, tmp_path / "key.pem", client)
        handoff.care.check_in(ctx(), "C1", "T1", None, None)
        yield found
    handoff.close()


def unzip(response: Response, folder: Path) -> Path:
    with zipfile.ZipFile(BytesIO(response.content)) as archive:
        archive.extractall(folder)
    return folder


def test_the_regulator_downloads_a_district_bundle_that_verifies_alone(desk: Desk, tmp_path: Path) -> None:
    answer = desk.export("regulator", "/api/v1/districts/D1/exports", requested_by="inspector-7")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    bundle = unzip(answer, tmp_path / "bundle")
    assert verify_bundle(bundle, [desk.fingerprint], [VKEY]).ok
    standalone = subprocess.run(
        [sys.executable, str(bundle / "verify.py"), str(bundle), "--key", desk.fingerprint, "--witness-key", VKEY],
        capture_output=True,
        text=True,
        check=False,
    )
    assert standalone.returncode == 0, standalone.stdout + standalone.stderr
    (made,) = desk.disclosures()
    assert (made.actor_id, made.actor_role, made.device_id) == ("r1", "regulator", "laptop-1")
    assert (made.schools, made.requested_by, made.pseudonymised) == (["S1", "S2"], "inspector-7", True)
    assert made.reason == "督导检查 inspection" and made.idempotency_key


def test_a_school_admin_exports_their_school_and_may_ask_for_names(desk: Desk, tmp_path: Path) -> None:
    answer = desk.export("admin", with_names=True)
    assert answer.status_code == 200, answer.text
    assert verify_bundle(unzip(answer, tmp_path / "named"), [desk.fingerprint], [VKEY]).ok
    (made,) = desk.disclosures()
    assert (made.schools, made.pseudonymised, made.requested_by) == (["S1"], False, "a1")


@pytest.mark.parametrize(
    ("who", "path", "body", "status", "code"),
    [
        ("teacher", "/api/v1/schools/S1/exports", {}, 403, "role_not_allowed"),
        ("duty_leader", "/api/v1/schools/S1/exports", {}, 403, "role_not_allowed"),
        ("admin", "/api/v1/schools/S2/exports", {}, 403, "other_school"),
        ("regulator", "/api/v1/schools/S1/exports", {"with_names": True}, 403, "names_not_allowed"),
        ("regulator", "/api/v1/districts/D9/exports", {}, 403, "other_school"),
        ("admin", "/api/v1/schools/S1/exports", {"day_to": "2026-11-01"}, 422, "bad_export_range"),
        ("admin", "/api/v1/schools/S1/exports", {"reason": ""}, 422, "invalid_request"),
    ],
)
def test_refused_exports_record_nothing(desk: Desk, who: str, path: str, body: dict, status: int, code: str) -> None:
    answer = desk.export(who, path, **body)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert answer.json()["message"]
    assert desk.disclosures() == []


def test_without_the_postgres_store_exports_are_unavailable() -> None:
    handoff = make_handoff()
    tokens = two_schools_with_tokens(handoff)
    client = TestClient(create_app(handoff))
    headers = {"Authorization": f"Bearer {tokens['admin']}", "Idempotency-Key": uuid.uuid4().hex}
    answer = client.post("/api/v1/schools/S1/exports", json=BODY, headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (503, "exports_not_available")


def test_the_signing_key_is_published_without_a_token(desk: Desk) -> None:
    answer = desk.client.get("/api/v1/signing-keys")
    assert answer.status_code == 200
    current = answer.json()["current"]
    assert current["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert fingerprint(base64.b64decode(current["public_key_base64"])) == current["fingerprint"]
    assert answer.json()["earlier"] == [] and answer.json()["rotations"] == []
    assert answer.json()["witness"] == {"vkey": VKEY, "name": "witness.test/handoff", "stand_in": False}


def test_a_server_without_a_witness_publishes_none_and_the_stand_in_says_so(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    handoff = make_handoff(postgres_env(fresh_postgres_url), Clock())
    try:
        desk = Desk(handoff, fresh_postgres_url, tmp_path / "key.pem")
        assert desk.client.get("/api/v1/signing-keys").json()["witness"] is None
        key = load_or_create_signing_key(tmp_path / "key.pem")
        stand_in = StandInWitness.kept_in(tmp_path / "stand-in", raw_public_key(key))
        desk.client.app.state.exporter = Exporter(handoff, fresh_postgres_url, key, witness=stand_in)  # type: ignore[attr-defined]
        found = desk.client.get("/api/v1/signing-keys").json()["witness"]
        assert found == {"vkey": stand_in.vkey, "name": STAND_IN_NAME, "stand_in": True}
    finally:
        handoff.close()


def test_one_idempotency_key_makes_one_disclosure(desk: Desk) -> None:
    first = desk.export("admin", key="export-key-1")
    assert first.status_code == 200, first.text
    again = desk.export("admin", key="export-key-1")
    assert (again.status_code, again.json()["code"]) == (409, "export_already_made"), again.text
    other = desk.export("admin", key="export-key-1", reason="another reason")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused"), other.text
    assert len(desk.disclosures()) == 1


def test_checkpoints_signed_with_another_key_give_a_clear_refusal(desk: Desk, tmp_path: Path) -> None:
    assert desk.export("admin").status_code == 200  # checkpoints now signed with the first key
    desk.client.app.state.exporter = Exporter(  # type: ignore[attr-defined]
        desk.handoff, desk.url, load_or_create_signing_key(tmp_path / "another-key.pem")
    )
    answer = desk.export("admin")
    assert (answer.status_code, answer.json()["code"]) == (503, "signing_key_unknown"), answer.text
    assert len(desk.disclosures()) == 1
