"""The projector on real PostgreSQL: live following, failures shown and never skipped, kill -9 mid-stream,
two projectors at once, and views that always equal a fresh rebuild."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregates.base import DomainError
from aggregates.staff import Role
from projections import catalog, occupancy, occupancy_queries
from projections.base import ReadModel
from projections.rebuild import rebuild
from projections.registry import READ_MODELS
from projections.supervisor import Supervisor, lock_key
from service.application.context import Actor
from service.application.handoff import Handoff
from service.demo.seed import seed_demo
from service.infra.embedded_postgres import create_database, drop_database
from service.infra.event_log import event_log
from service.infra.settings import postgres_env
from service.processes.notifier import NOTIFIER_LOCK
from service.processes.policies import POLICY_LOCK
from service.reads.readside import ReadSide, ViewsNotReadyError
from service.runtime import projector_supervisor
from tests.broken_model import broken, failing
from tests.support import AFTERNOON, SECRET, Clock, ctx, handed_to_guardian, make_handoff, setup_school

ROOT = Path(__file__).resolve().parents[2]


def rows(url: str, model: ReadModel, version: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of one version of a read model, in a stable order."""
    with psycopg.connect(url) as conn:
        return {
            name: sorted(conn.execute(model.tables(version).format("SELECT * FROM {%s}" % name)).fetchall(), key=repr)
            for name in model.logical_names
        }


def positions(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "SELECT p.projection, p.position FROM projection_positions p JOIN projection_versions v"
                " ON v.projection = p.projection AND v.active_version = p.version"
            ).fetchall()
        )


def wait_until(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def caught_up(url: str, handoff: Handoff) -> bool:
    found = positions_or_empty(url)
    return len(found) == len(READ_MODELS) and min(found.values()) >= handoff.recorder.max_notification_id()


def settled(url: str, handoff: Handoff, quiet: float = 2.0) -> bool:
    """Caught up, and nothing new for `quiet` seconds: the policies and the notifier (which react to the check-ins,
    e.g. with late-pickup incidents after the batch's end) have done their work and the views have it too."""
    head = handoff.recorder.max_notification_id()
    time.sleep(quiet)
    return head == handoff.recorder.max_notification_id() and caught_up(url, handoff)


def assert_views_equal_rebuild(url: str, handoff: Handoff) -> None:
    for model in READ_MODELS.values():
        with psycopg.connect(url) as conn:
            live = catalog.active_version(conn, model.name)
        assert live is not None
        live_rows = rows(url, model, live)
        rebuilt = rebuild(model, url, event_log(handoff))
        assert rows(url, model, rebuilt) == live_rows, model.name


@pytest.fixture
def supervised(postgres_handoff: Handoff, fresh_postgres_url: str) -> Iterator[Supervisor]:
    supervisor = projector_supervisor(postgres_handoff, fresh_postgres_url)
    supervisor.start()
    yield supervisor
    supervisor.close()


def test_the_projector_catches_up_then_follows_live_writes(
    postgres_handoff: Handoff, fresh_postgres_url: str, supervised: Supervisor
) -> None:
    wait_until(lambda: caught_up(fresh_postgres_url, postgres_handoff))
    handed_to_guardian(postgres_handoff)
    postgres_handoff.care.release(ctx(), "C1", "G1")
    wait_until(lambda: caught_up(fresh_postgres_url, postgres_handoff), timeout=5)
    assert_views_equal_rebuild(fresh_postgres_url, postgres_handoff)


def test_a_failing_handler_is_shown_retried_and_never_skipped(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    handed_to_guardian(postgres_handoff)
    postgres_handoff.care.release(ctx(), "C1", "G1")
    released_at = postgres_handoff.recorder.max_notification_id() - 1  # the release, before its answer
    postgres_handoff.care.check_in(ctx(), "C2", "T1", None, None)
    supervisor = Supervisor([broken], fresh_postgres_url, event_log(postgres_handoff), "handoff_events")
    read = ReadSide(fresh_postgres_url, event_log(postgres_handoff), postgres_handoff.clock, models=[broken])
    supervisor.start()
    try:
        wait_until(lambda: read.status()["broken"]["state"] == "failing")
        status = read.status()["broken"]
        assert status["position"] == released_at - 1, "events before the failing one are applied"
        assert status["failure"]["position"] == released_at
        assert status["failure"]["event"] == "ChildReleased"
        assert "this handler is broken" in status["failure"]["error"]
        failing["on"] = False
        wait_until(lambda: read.status()["broken"]["state"] == "live" and read.status()["broken"]["lag_events"] == 0)
        assert rows(fresh_postgres_url, broken, 1) == {"releases": [("C1",)]}
    finally:
        failing["on"] = True
        supervisor.close()
        read.close()


def start_projector(url: str, page_size: int = 20) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HANDOFF_DATABASE_URL": url,
        "HANDOFF_SECRET_KEY": SECRET,
        "HANDOFF_PROJECTOR_PAGE_SIZE": str(page_size),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli.main", "project"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def backlog(fresh_postgres_url: str, tmp_path: Path) -> Iterator[Handoff]:
    """The demo school: about 1,300 events waiting to be projected."""
    handoff = Handoff(postgres_env(fresh_postgres_url), secret_key=SECRET)
    seed_demo(handoff, tmp_path / "tokens.json")
    yield handoff
    handoff.close()


def test_a_projector_killed_mid_stream_and_restarted_gives_the_same_views(
    backlog: Handoff, fresh_postgres_url: str
) -> None:
    first = start_projector(fresh_postgres_url)
    head = backlog.recorder.max_notification_id()
    wait_until(lambda: any(0 < p < head for p in positions_or_empty(fresh_postgres_url).values()))
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not caught_up(fresh_postgres_url, backlog), "killed mid-stream, before the end"
    second = start_projector(fresh_postgres_url, page_size=500)
    try:
        wait_until(lambda: caught_up(fresh_postgres_url, backlog))
    finally:
        second.terminate()
        second.wait()
    assert_views_equal_rebuild(fresh_postgres_url, backlog)


def test_a_second_projector_alongside_does_no_harm(backlog: Handoff, fresh_postgres_url: str) -> None:
    projectors = [start_projector(fresh_postgres_url), start_projector(fresh_postgres_url)]
    try:
        teacher = Actor("teacher-1", Role.TEACHER, "demo-school", "demo-district")
        for child in ("C0001", "C0002", "C0003"):
            backlog.care.check_in(ctx(teacher, school="demo-school"), child, "T01", None, None)
        wait_until(lambda: caught_up(fresh_postgres_url, backlog))
        standing = {lock_key(name, 1) & 0xFFFFFFFF for name in READ_MODELS} | {POLICY_LOCK, NOTIFIER_LOCK}
        # Set-up (the catalog's DDL lock) and each checkpoint signing run hold an advisory lock for a moment, so one
        # look can catch one of them: wait for the standing locks alone, each held once (one projector per model,
        # one policy runner, one notifier).
        wait_until(lambda: advisory_locks(fresh_postgres_url) == dict.fromkeys(standing, 1), timeout=30)
        wait_until(lambda: settled(fresh_postgres_url, backlog), timeout=60)
    finally:
        for projector in projectors:
            projector.terminate()
            projector.wait()
    assert_views_equal_rebuild(fresh_postgres_url, backlog)


def advisory_locks(url: str) -> dict[int, int]:
    """The advisory locks held now, and by how many sessions."""
    with psycopg.connect(url) as conn:
        query = "SELECT objid, count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted GROUP BY objid"
        return dict(conn.execute(query).fetchall())


def positions_or_empty(url: str) -> dict[str, int]:
    try:
        return positions(url)
    except psycopg.errors.UndefinedTable:
        return {}


COMMANDS = st.lists(
    st.tuples(
        st.sampled_from(["check_in", "transfer", "arrive", "confirm", "release", "absent", "next_day"]),
        st.sampled_from(["C1", "C2", "C3"]),
        st.sampled_from(["teacher", "teacher2", "duty_leader", "gate"]),
    ),
    max_size=25,
)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(commands=COMMANDS, split=st.integers(min_value=0, max_value=25))
def test_views_equal_a_fresh_rebuild_for_any_command_sequence(
    postgres_server_url: str, commands: list[tuple[str, str, str]], split: int
) -> None:
    name = f"handoff_views_{os.getpid()}_{time.monotonic_ns()}"
    url = create_database(postgres_server_url, name)
    clock = Clock()
    handoff = make_handoff(postgres_env(url), clock)
    try:
        setup_school(handoff)
        for n, (command, child, actor) in enumerate(commands):
            if n == split:
                project_once(url, handoff)
            run(handoff, clock, command, child, actor)
        project_once(url, handoff)
        assert_views_equal_rebuild(url, handoff)
    finally:
        handoff.close()
        drop_database(postgres_server_url, name)


def project_once(url: str, handoff: Handoff) -> None:
    supervisor = projector_supervisor(handoff, url)
    supervisor.start()
    wait_until(lambda: caught_up(url, handoff))
    supervisor.close()


def run(handoff: Handoff, clock: Clock, command: str, child: str, actor: str) -> None:
    calls = {
        "check_in": lambda: handoff.care.check_in(ctx(actor), child, "T1", None, None),
        "transfer": lambda: handoff.care.transfer(ctx(actor), child, "t2", "T2"),
        "arrive": lambda: handoff.care.register_arrival(ctx("gate"), child, "G1", "pickup_code", "1234"),
        "confirm": lambda: handoff.care.confirm(ctx(actor), child, "G1", True, True),
        "release": lambda: handoff.care.release(ctx(actor), child, "G1" if child == "C1" else None),
        "absent": lambda: handoff.care.mark_absent(ctx(actor), child, "ill"),
    }
    if command == "next_day":
        clock.now += timedelta(days=1, hours=1)
        return
    try:
        calls[command]()
    except DomainError:
        pass


def test_the_projector_resumes_after_its_database_connections_are_cut(
    postgres_handoff: Handoff, fresh_postgres_url: str, supervised: Supervisor
) -> None:
    wait_until(lambda: caught_up(fresh_postgres_url, postgres_handoff))
    with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:
        cut = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name LIKE 'handoff-projector-%'"
        ).fetchone()
    assert cut and cut[0] >= 2, "the projector's connections were cut: the one it listens on, and its group's"
    handed_to_guardian(postgres_handoff)
    postgres_handoff.care.release(ctx(), "C1", "G1")
    wait_until(lambda: caught_up(fresh_postgres_url, postgres_handoff), timeout=30)
    assert_views_equal_rebuild(fresh_postgres_url, postgres_handoff)


def test_a_live_version_whose_tables_are_not_there_yet_is_not_ready_not_an_error(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    """Found by the fuzzer: a reader sent to a version before its tables exist got a 500."""
    with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:
        catalog.ensure_catalog(conn)
        catalog.register_version(conn, "occupancy", 1)
        catalog.activate(conn, "occupancy", 1)
    read = ReadSide(fresh_postgres_url, event_log(postgres_handoff), postgres_handoff.clock)
    summary = (occupancy.occupancy, occupancy_queries.summary, "S1", date(2026, 11, 30), AFTERNOON)
    supervisor = projector_supervisor(postgres_handoff, fresh_postgres_url)
    try:
        with pytest.raises(ViewsNotReadyError):
            read.query(*summary)
        supervisor.start()  # the projector creates the tables of the version it finds live
        wait_until(lambda: caught_up(fresh_postgres_url, postgres_handoff))
        assert read.query(*summary)["expected"] == 2
    finally:
        supervisor.close()
        read.close()
