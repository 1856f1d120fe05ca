"""Callers of every kind (each role, in its own and in another school, revoked, expired), and a running server on
PostgreSQL with the projector for the endpoints served from the views."""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from aggregates.staff import Role
from replay.checkpoints import load_or_create_signing_key
from service.application.context import operator_context
from service.application.handoff import Handoff
from service.audit.exports import Exporter
from service.http.app import create_app
from service.infra.embedded_postgres import create_database, drop_database
from service.infra.settings import Settings
from service.reads.readside import ReadSide
from service.runtime import read_stack
from tests import summaries
from tests.support import DISTRICT, OTHER_SCHOOL, SCHOOL, setup_school

OTHER_DISTRICT = "D2"
PROVINCE = "P1"
STAFF_IDS = {"teacher": "t1", "gate": "g1", "duty_leader": "d1", "admin": "a1"}

TALLY: Counter[str] = Counter()
"""Requests sent and cells checked, printed at the end of the run for the issue's closing note."""


@pytest.fixture(autouse=True)
def tallied(request: pytest.FixtureRequest) -> Iterator[None]:
    """What each test added to TALLY goes to the run's summary with its report (tests/summaries.py)."""
    before = Counter(TALLY)
    yield
    summaries.add(request.node, "security", dict(TALLY - before))


@dataclass
class Callers:
    """A live token per role for school S1 (regulator: district D1), for S2 (regulator: D2), and revoked ones."""

    own: dict[str, str] = field(default_factory=dict)
    other: dict[str, str] = field(default_factory=dict)
    revoked: dict[str, str] = field(default_factory=dict)


def caller_tokens(handoff: Handoff) -> Callers:
    """Schools S1 and S2 of district D1, the regulators r1 (D1) and r2 (D2), and their tokens (valid for a day)."""
    setup_school(handoff)
    setup_school(handoff, OTHER_SCHOOL)
    handoff.staff.register_staff(operator_context(DISTRICT), "r1", Role.REGULATOR, DISTRICT)
    handoff.staff.register_staff(operator_context(OTHER_DISTRICT), "r2", Role.REGULATOR, OTHER_DISTRICT)
    callers = Callers()
    for role, staff in STAFF_IDS.items():
        callers.own[role] = handoff.staff.issue_token(operator_context(SCHOOL), staff, timedelta(days=1))["token"]
        callers.other[role] = handoff.staff.issue_token(operator_context(OTHER_SCHOOL), staff, timedelta(days=1))[
            "token"
        ]
        callers.revoked[role] = revoked_token(handoff, SCHOOL, staff)
    callers.own["regulator"] = handoff.staff.issue_token(operator_context(DISTRICT), "r1", timedelta(days=1))["token"]
    callers.other["regulator"] = handoff.staff.issue_token(operator_context(OTHER_DISTRICT), "r2", timedelta(days=1))[
        "token"
    ]
    callers.revoked["regulator"] = revoked_token(handoff, DISTRICT, "r1")
    handoff.staff.register_staff(operator_context(PROVINCE), "p1", Role.PROVINCE_REGULATOR, PROVINCE)
    callers.own["province_regulator"] = handoff.staff.issue_token(operator_context(PROVINCE), "p1", timedelta(days=1))[
        "token"
    ]  # one province per deployment: no province regulator of "another school" to refuse
    callers.revoked["province_regulator"] = revoked_token(handoff, PROVINCE, "p1")
    return callers


def revoked_token(handoff: Handoff, scope: str, staff: str) -> str:
    """A token that was issued and then revoked by its id (the staff member's other tokens stay live)."""
    token = handoff.staff.issue_token(operator_context(scope), staff, timedelta(days=1))["token"]
    token_id = token.split(".")[2]
    assert handoff.staff.revoke_tokens(operator_context(scope), staff, "tablet lost", token_id)["revoked"] == 1
    return token


@pytest.fixture(scope="module")
def module_postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A database of this test module's own."""
    name = f"handoff_security_{os.getpid()}_{secrets.token_hex(4)}"
    yield create_database(postgres_server_url, name)
    drop_database(postgres_server_url, name)


@contextmanager
def served(handoff: Handoff, url: str, folder: Path, capture: logging.Handler | None = None) -> Iterator[str]:
    """The API on a real HTTP server with PostgreSQL views and the projector in the same process; yields its URL.

    With `capture`, uvicorn logs as `handoff serve` has it (its own log configuration, access log on), and the
    handler also receives uvicorn's records, which do not reach the root logger."""
    stack = read_stack(handoff, url, Settings(signing_key_file=folder / "key.pem"), with_projector=True)
    assert stack is not None
    app = create_app(handoff, stack.read, stack.watcher, Settings())
    app.state.exporter = Exporter(handoff, url, load_or_create_signing_key(folder / "key.pem"))
    try:
        wait_for_views(stack.read)
        with listening(app, capture) as base:
            yield base
    finally:
        stack.close()


def wait_for_views(read: ReadSide, timeout: float = 30.0) -> None:
    """Until every view has a live version: a request before that is answered 503 views_not_ready, by design."""
    deadline = time.monotonic() + timeout
    while any(isinstance(v, dict) and v["state"] != "live" for v in read.status().values()):
        assert time.monotonic() < deadline, f"the views did not start: {read.status()}"
        time.sleep(0.05)


@contextmanager
def listening(app: FastAPI, capture: logging.Handler | None = None) -> Iterator[str]:
    """The app on uvicorn in a thread, on a free port; yields its URL."""
    if capture:
        config = uvicorn.Config(app, port=0, log_level="info")
        for name in ("uvicorn", "uvicorn.access"):
            logging.getLogger(name).addHandler(capture)
    else:
        config = uvicorn.Config(app, port=0, log_level="warning", access_log=False, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        if capture:
            for name in ("uvicorn", "uvicorn.access"):
                logging.getLogger(name).removeHandler(capture)
