"""The embedded PostgreSQL server: TCP on 127.0.0.1, data kept across restarts, databases made and dropped."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from service.infra.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError, create_database, drop_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="handoff-test-embedded-"))
    folder.chmod(0o711)  # started by root, the server's own user must pass through (not read) the test's folder
    yield folder / "pgdata"
    shutil.rmtree(folder, ignore_errors=True)


def test_data_is_kept_across_a_restart(data_dir: Path) -> None:
    with EmbeddedPostgres(data_dir) as server:
        assert server.url.startswith("postgresql://postgres:") and "@127.0.0.1:" in server.url
        with psycopg.connect(server.url) as conn:
            conn.execute("CREATE TABLE note (body text)")
            conn.execute("INSERT INTO note VALUES ('托管 survives')")
        first_port = server.port
    with EmbeddedPostgres(data_dir) as server:
        assert server.port == first_port  # the remembered port is preferred
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT body FROM note").fetchall() == [("托管 survives",)]


def test_a_running_server_is_reused_and_left_running(data_dir: Path) -> None:
    with EmbeddedPostgres(data_dir, durable=False) as owner:
        borrower = EmbeddedPostgres(data_dir)
        assert borrower.start() == owner.url
        borrower.stop()
        with psycopg.connect(owner.url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_create_and_drop_database(data_dir: Path) -> None:
    with EmbeddedPostgres(data_dir, durable=False) as server:
        url = create_database(server.url, "handoff_Ünïcode db")
        assert create_database(server.url, "handoff_Ünïcode db") == url  # already there: no error
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("handoff_Ünïcode db",)
            drop_database(server.url, "handoff_Ünïcode db")  # forced: ends this session
            with pytest.raises(psycopg.OperationalError):
                conn.execute("SELECT 1")
        with psycopg.connect(server.url) as conn:
            names = [row[0] for row in conn.execute("SELECT datname FROM pg_database")]
        assert "handoff_Ünïcode db" not in names
        drop_database(server.url, "handoff_Ünïcode db")  # already gone: no error


def test_start_failure_reports_the_server_log(data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = EmbeddedPostgres(data_dir, port=busy.getsockname()[1], durable=False)
        with pytest.raises(EmbeddedPostgresError, match="(?s)did not start.*server.log.*could not"):
            server.start()
