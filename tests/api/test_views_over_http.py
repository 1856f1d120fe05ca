"""The views over HTTP on a running server with PostgreSQL and the projector: role scoping, read-your-writes,
the live stream, health and metrics."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from psycopg.conninfo import conninfo_to_dict

from projections.registry import READ_MODELS
from projections.supervisor import Supervisor
from service.application.handoff import Handoff
from service.http.app import create_app
from service.infra.event_log import event_log
from service.infra.settings import Settings, postgres_env
from service.reads.readside import ReadSide
from service.runtime import read_stack
from tests.api.conftest import two_schools_with_tokens
from tests.broken_model import broken, failing
from tests.support import Clock, make_handoff, serve

DAY = "2026-11-30"


def settings_for(folder: Path) -> Settings:
    """Checkpoints signed with a key of the test's own, every second."""
    return Settings(signing_key_file=folder / "key.pem", checkpoint_interval=1.0)


BODY = {"device_id": "tablet-9", "device_time": "2026-11-30T16:30:00+08:00"}


@dataclass
class Server:
    url: str
    tokens: dict[str, str]
    handoff: Handoff
    app: Any = None

    def post(
        self, child: str, path: str, body: dict[str, Any], who: str = "teacher", **headers: str
    ) -> httpx2.Response:
        return httpx2.post(
            f"{self.url}/api/v1/schools/S1/children/{child}/{path}",
            json={**BODY, **body},
            headers={"Authorization": f"Bearer {self.tokens[who]}", "Idempotency-Key": uuid.uuid4().hex, **headers},
        )

    def get(self, path: str, who: str = "duty_leader", **params: Any) -> httpx2.Response:
        return httpx2.get(f"{self.url}{path}", params=params, headers={"Authorization": f"Bearer {self.tokens[who]}"})


@pytest.fixture
def running(fresh_postgres_url: str, tmp_path: Path) -> Iterator[Server]:
    handoff = make_handoff(postgres_env(fresh_postgres_url), Clock())
    tokens = two_schools_with_tokens(handoff)
    stack = read_stack(handoff, fresh_postgres_url, settings_for(tmp_path), with_projector=True)
    assert stack is not None
    app = create_app(handoff, stack.read, stack.watcher)
    server, thread, url = serve(app)
    wait_for_views(Server(url, tokens, handoff))
    yield Server(url, tokens, handoff, app)
    server.should_exit = True
    thread.join(10)
    stack.close()
    handoff.close()


def wait_for_views(server: Server) -> None:
    deadline = time.monotonic() + 20
    while server.get("/health").json()["projections"]["occupancy"]["lag_events"] != 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def hand_over_and_release(server: Server, child: str = "C1") -> float:
    """The whole handoff over HTTP; returns the moment the release answered."""
    assert server.post(child, "check-in", {"place_code": "T1"}).status_code == 200
    server.post(
        child,
        "guardian-arrival",
        {"guardian_id": "G1", "verification": "pickup_code", "pickup_code": "1234"},
        who="gate",
    )
    server.post(
        child,
        "confirmation",
        {"guardian_id": "G1", "guardian_recognised_child": True, "child_recognised_guardian": True},
    )
    released = server.post(child, "release", {"guardian_id": "G1"})
    assert released.json()["custody"]["status"] == "released"
    return time.monotonic()


def test_an_sse_client_sees_a_release_within_a_second(running: Server) -> None:
    seen: list[tuple[float, dict[str, Any]]] = []
    opened = threading.Event()

    def listen() -> None:
        headers = {"Authorization": f"Bearer {running.tokens['duty_leader']}"}
        with httpx2.stream("GET", f"{running.url}/api/v1/schools/S1/live", headers=headers, timeout=10) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    seen.append((time.monotonic(), json.loads(line[5:])))
                    opened.set()
                    if seen[-1][1]["released"] == 1:
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(5), "the stream sends a snapshot at once"
    returned = hand_over_and_release(running)
    listener.join(5)
    arrival = next(at for at, snapshot in seen if snapshot["released"] == 1)
    assert arrival - returned < 1.0


def test_prefer_wait_for_views_answers_once_the_views_show_the_command(running: Server) -> None:
    answer = running.post("C2", "check-in", {"place_code": "T2"}, Prefer="wait-for-views")
    assert answer.headers["Views-Caught-Up"] == "true"
    children = running.get("/api/v1/schools/S1/occupancy/children", who="teacher", day=DAY, place="T2").json()
    assert [c["child_id"] for c in children["items"]] == ["C2"]


def test_the_views_are_filtered_and_paginated(running: Server) -> None:
    for child in ("C1", "C2"):
        running.post(child, "check-in", {"place_code": "T1"}, Prefer="wait-for-views")
    page = running.get("/api/v1/schools/S1/occupancy/children", day=DAY, limit=1, offset=1).json()
    assert [c["child_id"] for c in page["items"]] == ["C2"]
    summary = running.get("/api/v1/schools/S1/occupancy", day=DAY).json()
    assert (summary["in_care"], summary["on_roster"], summary["not_seen"]) == (2, 3, 1)
    audit = running.get("/api/v1/schools/S1/audit", day=DAY, child="C1").json()["items"]
    assert len(audit) == 1


CHILD_LEVEL = [
    "/api/v1/schools/S1/occupancy",
    "/api/v1/schools/S1/occupancy/children",
    "/api/v1/schools/S1/children/C1/timeline",
    "/api/v1/schools/S1/audit",
    "/api/v1/schools/S1/attendance",
    "/api/v1/schools/S1/supervision",
    "/api/v1/schools/S1/children/C1/days/2026-11-30",
]


def test_a_regulator_reads_the_district_summary_and_nothing_child_level(running: Server) -> None:
    hand_over_and_release(running)
    for path in CHILD_LEVEL:
        assert running.get(path, who="regulator").status_code == 403, path
    summary = running.get("/api/v1/districts/D1/summary", who="regulator", **{"from": DAY, "to": DAY})
    assert summary.status_code == 200
    assert "C1" not in summary.text and "G1" not in summary.text
    assert summary.json()["schools"] == ["S1", "S2"]  # S2 had no service that day: the page shows it
    never = {"at": None, "tree_size": None, "outcome": None}
    assert summary.json()["witnessed"] == {"S1": never, "S2": never}  # no witness here: the page flags both
    one = running.get("/api/v1/districts/D1/summary", who="regulator", **{"from": DAY, "to": DAY, "school": "S2"})
    assert one.json()["schools"] == ["S2"] and one.json()["items"] == []
    assert running.get("/api/v1/districts/D9/summary", who="regulator", **{"from": DAY, "to": DAY}).status_code == 403
    assert running.get("/api/v1/districts/D1/summary", **{"from": DAY, "to": DAY}).status_code == 403


def test_another_schools_staff_see_nothing_of_this_school(running: Server) -> None:
    for path in CHILD_LEVEL:
        assert running.get(path, who="other_school_teacher").status_code == 403, path


def test_health_and_metrics_report_lag_against_the_head(running: Server) -> None:
    running.post("C1", "check-in", {"place_code": "T1"}, Prefer="wait-for-views")
    health = running.get("/health").json()
    assert health["status"] == "ok"
    assert set(health["projections"]) == set(READ_MODELS)
    assert all(p["lag_events"] == 0 and p["position"] == health["head"] for p in health["projections"].values())
    metrics = httpx2.get(f"{running.url}/metrics").text
    assert 'handoff_projection_lag_events{projection="occupancy"} 0.0' in metrics
    assert 'handoff_outbox_messages{status="failing"} 0.0' in metrics


def test_health_and_metrics_report_the_role_of_the_server_each_pool_is_on(
    running: Server, fresh_postgres_url: str
) -> None:
    port = conninfo_to_dict(fresh_postgres_url)["port"]
    database = running.get("/health").json()["database"]
    assert database == {pool: {"role": "primary", "server": f"127.0.0.1:{port}"} for pool in ("events", "views")}
    metrics = httpx2.get(f"{running.url}/metrics").text
    for pool in ("events", "views"):
        assert f'handoff_database_primary{{pool="{pool}",role="primary",server="127.0.0.1:{port}"}} 1.0' in metrics


def test_a_failing_handler_shows_up_on_health(fresh_postgres_url: str, tmp_path: Path) -> None:
    handoff = make_handoff(postgres_env(fresh_postgres_url), Clock())
    tokens = two_schools_with_tokens(handoff)
    stack = read_stack(handoff, fresh_postgres_url, settings_for(tmp_path), with_projector=True)
    assert stack is not None
    stack.read.close()
    stack.read = ReadSide(fresh_postgres_url, event_log(handoff), handoff.clock, [*READ_MODELS.values(), broken])
    extra = Supervisor([broken], fresh_postgres_url, event_log(handoff), "handoff_events")
    extra.start()
    server, thread, url = serve(create_app(handoff, stack.read, stack.watcher))
    running = Server(url, tokens, handoff)
    try:
        hand_over_and_release(running)
        deadline = time.monotonic() + 20
        while (health := running.get("/health").json())["status"] != "failing":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert health["failing"] == ["broken"]
        assert health["projections"]["broken"]["failure"]["event"] == "ChildReleased"
        assert 'handoff_projection_failing{projection="broken"} 1.0' in httpx2.get(f"{url}/metrics").text
    finally:
        failing["on"] = True
        server.should_exit = True
        thread.join(10)
        extra.close()
        stack.close()
        handoff.close()
