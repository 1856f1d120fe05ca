"""The projector process killed with kill -9 in the middle of a batch: its page of view rows is written and its
position updated inside the open transaction, the COMMIT not yet sent. The test proxy holds that COMMIT back, checks
that PostgreSQL really has the transaction open, then kills the process; PostgreSQL rolls the page back and the next
projector applies it again, exactly once. (tests/integration/test_projector.py kills it between pages, at random.)"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.faults.checks import Tally, check_every_event, check_views
from tests.faults.conftest import Seeded
from tests.faults.harness import ApiProcess, Load, ProjectorProcess
from tests.faults.proxy import Link, Proxy, Verdict
from tests.faults.school import open_handoff

KILLS = 2
PAGE = 4096
"""Bytes sent in a projector's transaction above which it is carrying a page of view rows."""


class HoldPageCommit:
    """Holds back the COMMIT of the first page of view rows a projector sends, once armed."""

    def __init__(self) -> None:
        self.held = threading.Event()
        self.armed = False

    def arm(self) -> None:
        self.held.clear()
        self.armed = True

    def __call__(self, link: Link, data: bytes) -> Verdict:
        projector = (link.application_name or "").startswith("handoff-projector")
        if not (self.armed and projector and b"COMMIT" in data and link.up_since_commit > PAGE):
            return Verdict.FORWARD
        self.armed = False
        self.held.set()
        return Verdict.HOLD


def open_projector_transactions(url: str) -> int:
    """Projector sessions waiting inside a transaction that has done work (the page, before its COMMIT)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'handoff-projector-%%'"
            " AND state = 'idle in transaction' AND backend_xid IS NOT NULL"
        ).fetchone()
    return row[0] if row else 0


@pytest.mark.timeout(150)
def test_the_projector_killed_mid_batch_applies_the_batch_exactly_once_after_restart(
    seeded: Seeded, tmp_path: Path, tally: Tally
) -> None:
    holder = HoldPageCommit()
    proxy = Proxy(seeded.url, up=holder)
    api = ApiProcess(seeded.url, tmp_path, projector=False)
    api.start()
    load = Load(api.url, seeded.school)
    projector = ProjectorProcess(proxy.url, tmp_path, page_size=200)
    try:
        load.start()
        for kill in range(KILLS):
            holder.arm()
            projector.start()
            assert holder.held.wait(30), "a projector sent a page of view rows"
            deadline = time.monotonic() + 10
            while open_projector_transactions(seeded.url) < 1:
                assert time.monotonic() < deadline, "the page's transaction is open in PostgreSQL"
                time.sleep(0.01)
            projector.kill()
            load.wait_for(load.total * (kill + 1) // (KILLS + 1))
        projector = ProjectorProcess(seeded.url, tmp_path)
        projector.start()
        load.join()
        handoff = open_handoff(seeded.url, tmp_path)
        try:
            tally.requests, tally.faults = load.requests, KILLS
            tally.events = check_every_event(handoff, load.commands, seeded.school.children)

            def stop_writers() -> None:
                api.stop()
                projector.stop()

            check_views(handoff, seeded.url, stop_writers)
        finally:
            handoff.close()
    finally:
        api.stop()
        projector.stop()
        proxy.close()
