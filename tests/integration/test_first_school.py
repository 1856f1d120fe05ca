"""README "Your first school", step by step, on an empty database (nothing seeded): the operator registers the school
and its first admin on the command line; the admin sets the school up over HTTP and the command line; then a first
dismissal over HTTP: a check-in, a guardian's arrival at the gate, the mutual confirmation and the release."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.application.handoff import Handoff
from service.cli.main import app as cli
from service.http.app import create_app
from service.infra.key_store import PostgresKeyStore
from service.infra.settings import postgres_env
from tests.api.test_oneroster_over_http import CLEAN, zipped
from tests.support import SECRET, Clock

SCHOOL = "2133099001"
TOKEN = re.compile(r"hs1\.[0-9a-f]{32}\.[0-9a-f]{8}\.[A-Za-z0-9_-]+")
DEVICE = {"device_id": "office-pc", "device_time": "2026-11-30T16:30:00+08:00"}


@pytest.fixture
def env(fresh_postgres_url: str, tmp_path: Path) -> dict[str, str]:
    return {"HANDOFF_DATABASE_URL": fresh_postgres_url, "HANDOFF_DATA_DIR": str(tmp_path), "HANDOFF_SECRET_KEY": SECRET}


@pytest.fixture
def api(fresh_postgres_url: str) -> Iterator[TestClient]:
    keys = PostgresKeyStore(fresh_postgres_url, SECRET.encode())
    handoff = Handoff(postgres_env(fresh_postgres_url), secret_key=SECRET, clock=Clock(), keys=keys)
    yield TestClient(create_app(handoff))
    handoff.close()


def handoff_cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


class Staff:
    """Requests as a member of staff: their token, a fresh Idempotency-Key, the device fields."""

    def __init__(self, api: TestClient, token: str) -> None:
        self.api, self.token = api, token

    def post(self, path: str, body: dict | None = None, **more: object) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": uuid.uuid4().hex}
        answer = self.api.post(f"/api/v1/schools/{SCHOOL}/{path}", json={**DEVICE, **(body or {})}, headers=headers)
        assert answer.status_code == 200, (path, answer.text)
        return answer.json()

    def upload(self, data: bytes) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": uuid.uuid4().hex}
        headers["Content-Type"] = "application/zip"
        answer = self.api.post(f"/api/v1/schools/{SCHOOL}/roster", params=DEVICE, content=data, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def token_for(self, staff_id: str) -> str:
        return self.post(f"staff/{staff_id}/tokens", {"days": 30})["token"]


def test_your_first_school_from_an_empty_database_to_a_first_dismissal(env: dict[str, str], api: TestClient) -> None:
    # 1. The operator registers the school and its first admin (command line).
    handoff_cli(env, "school", "register", "--school", SCHOOL, "--name", "城南实验小学", "--district", "D-CN")
    admin = Staff(api, TOKEN.search(handoff_cli(env, "staff", "issue", "--school", SCHOOL, "--staff", "A-001",
                                                "--role", "admin")).group(0))  # fmt: skip
    # 2. Places: classrooms and venues, the gate, the release point (HTTP; `handoff school place` on the CLI).
    admin.post("places", {"place_code": "R302", "kind": "classroom", "label_zh": "302教室", "label_en": "Room 302"})
    admin.post("places", {"place_code": "ART", "kind": "club_room", "label_zh": "美术室", "label_en": "Art room"})
    admin.post("places", {"place_code": "GATE", "kind": "gate", "label_zh": "校门", "label_en": "School gate"})
    handoff_cli(env, "school", "place", "--school", SCHOOL, "--code", "EXIT", "--kind", "release_point",
                "--zh", "东门接送点", "--en", "East release point")  # fmt: skip
    # 3. The roster: children, guardians, and the teachers and admins, who become staff.
    imported = admin.upload(zipped(CLEAN))
    assert (imported["children_added"], imported["guardians_added"], imported["staff_added"]) == (2, 3, 1)
    # 4. Staff the roster does not hold (gate guards, duty leaders), and everyone's sign-in.
    for staff_id, role in (("G-1", "gate"), ("G-2", "gate"), ("D-1", "duty_leader"), ("D-2", "duty_leader")):
        admin.post("staff", {"staff_id": staff_id, "role": role})
    teacher, gate = Staff(api, admin.token_for("T-101")), Staff(api, admin.token_for("G-1"))
    # 5. Term, release batches and sessions (command line).
    handoff_cli(env, "plan", "term", "--school", SCHOOL, "--term", "2026-autumn", "--starts", "2026-09-01",
                "--ends", "2027-01-20", "--places", "300")  # fmt: skip
    handoff_cli(env, "plan", "batch", "--school", SCHOOL, "--code", "B1", "--ends", "17:30", "--zh", "第一批",
                "--en", "First batch")  # fmt: skip
    handoff_cli(env, "plan", "session", "--school", SCHOOL, "--season", "winter_spring", "--name", "作业辅导",
                "--days", "mon,tue,wed,thu,fri", "--starts", "15:40", "--ends", "16:40")  # fmt: skip
    # 6. Enrolment: the application and both reviews (HTTP).
    child = "children/S-30201/enrolments/2026-autumn"
    admin.post(f"{child}/application", {"guardian_id": "u-p1", "days": ["mon", "tue", "wed", "thu", "fri"]}
               | {"release_batch": "B1"})  # fmt: skip
    admin.post(f"{child}/class-review", {"approved": True})
    admin.post(f"{child}/school-review", {"approved": True})
    # 7. The temporary classes, then the signed safety agreement (HTTP).
    formed = admin.post("terms/2026-autumn/classes", {"teachers": ["T-101"], "venues": ["R302"]})
    temporary_class = formed["classes"][0]["class_code"]
    admin.post(f"{child}/agreement", {"signed_by": "u-p1", "authorised_guardians": ["u-p1", "u-p2"]}
               | {"starts_on": "2026-09-01", "ends_on": "2027-01-20"})  # fmt: skip
    # 8. The day opens with two duty leaders and two guards (HTTP).
    admin.post("days/2026-11-30/opening", {"duty_leaders": ["D-1", "D-2"], "guards": ["G-1", "G-2"]})
    # 9. The first dismissal (HTTP): check-in, the guardian at the gate, the mutual confirmation, the release.
    teacher.post("children/S-30201/check-in", {"place_code": temporary_class})
    gate.post("children/S-30201/guardian-arrival", {"guardian_id": "u-p1", "verification": "id_document"})
    teacher.post("children/S-30201/confirmation", {"guardian_id": "u-p1"}
                 | {"guardian_recognised_child": True, "child_recognised_guardian": True})  # fmt: skip
    released = teacher.post("children/S-30201/release", {"guardian_id": "u-p1"})
    assert (released["outcome"], released["custody"]["status"]) == ("recorded", "released")
