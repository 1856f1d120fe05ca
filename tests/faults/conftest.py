"""Fixtures of the fault tests: a seeded school cloned into a fresh database for every test, and the tally of
requests sent, faults injected and events checked, printed at the end of the run."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from service.infra.embedded_postgres import create_database, drop_database
from tests import summaries
from tests.faults.checks import Tally
from tests.faults.harness import STARTED
from tests.faults.school import School, open_handoff, seed_school

CHILDREN = 30


@dataclass(frozen=True)
class Seeded:
    url: str
    school: School


@pytest.fixture(scope="session")
def seeded_template(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, School]]:
    """The fault school, seeded once per session into a template database."""
    name = f"handoff_faults_{os.getpid()}_{secrets.token_hex(4)}"
    url = create_database(postgres_server_url, name)
    handoff = open_handoff(url, tmp_path_factory.mktemp("seed"))
    try:
        school = seed_school(handoff, CHILDREN)
    finally:
        handoff.close()
    yield name, school
    drop_database(postgres_server_url, name)


@pytest.fixture
def seeded(postgres_server_url: str, seeded_template: tuple[str, School]) -> Iterator[Seeded]:
    """A database of this test's own holding the seeded school (a copy of the template)."""
    name = f"handoff_fault_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        template = sql.Identifier(seeded_template[0])
        # fails while any session is open on the template: Handoff.close() must have closed all of them
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), template))
    yield Seeded(create_database(postgres_server_url, name), seeded_template[1])
    drop_database(postgres_server_url, name)


@pytest.fixture(autouse=True)
def stop_processes() -> Iterator[None]:
    """No server process outlives its test, even one that failed half-way."""
    yield
    while STARTED:
        STARTED.pop().stop()


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """What the test did, for the run's faults summary (tests/summaries.py)."""
    found = Tally()
    yield found
    summaries.add(request.node, "faults", dataclasses.asdict(found))
