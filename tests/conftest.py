"""Database fixtures shared by every test folder.

- ``postgres_server_url`` (session): admin URL of a PostgreSQL server. ``HANDOFF_TEST_DATABASE_URL``
  (a URL to any database on an existing server) when set; otherwise an embedded server started in a
  temporary folder the first time a test needs it, stopped and deleted at the end of the session.
- ``postgres_url`` (session): a database of this test run's own, dropped at the end.
- ``fresh_postgres_url`` (function): an empty database for one test, dropped after it.

These fixtures never skip: a PostgreSQL server that cannot be reached or started fails the tests.
Tests using them get the ``postgres`` marker, so ``pytest -m "not postgres"`` needs no server.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from service.infra.embedded_postgres import EmbeddedPostgres, create_database, drop_database
from tests import summaries

# Property tests check values, not speed: on a shared two-core machine one example can take longer than hypothesis's
# default 200 ms deadline, and data generation can trip its "too slow" check. Speed has its own benchmarks.
settings.register_profile("handoff", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("handoff")

DATABASE_FIXTURES = {"postgres_server_url", "postgres_url", "fresh_postgres_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    summaries.collect(report)  # here also in the process that prints when the tests run in workers (xdist)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.faults.checks import Tally, summary

    security = summaries.counted("security")
    if security:
        terminalreporter.write_line("security suite: " + ", ".join(f"{k} {v}" for k, v in sorted(security.items())))
    faults = {name: Tally(**figures) for name, figures in summaries.FIGURES.get("faults", [])}
    if faults:
        terminalreporter.section("faults")
        for line in summary(faults):
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    url = os.environ.get("HANDOFF_TEST_DATABASE_URL")
    if url:
        try:
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as exc:
            pytest.fail(f"HANDOFF_TEST_DATABASE_URL: cannot connect to PostgreSQL: {exc}", pytrace=False)
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="handoff-test-pg-"))
    server = EmbeddedPostgres(folder, durable=False)
    try:
        yield _start(server)
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _start(server: EmbeddedPostgres) -> str:
    try:
        return server.start()
    except Exception as exc:  # noqa: BLE001 - any start-up problem must fail loudly, never skip
        pytest.fail(f"cannot start the embedded PostgreSQL: {exc}", pytrace=False)


def _unique_name() -> str:
    return f"handoff_test_{os.getpid()}_{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    name = _unique_name()
    yield create_database(postgres_server_url, name)
    drop_database(postgres_server_url, name)


@pytest.fixture
def fresh_postgres_url(postgres_server_url: str) -> Iterator[str]:
    name = _unique_name()
    yield create_database(postgres_server_url, name)
    drop_database(postgres_server_url, name)
