"""Failover under load, in the Jepsen manner: tablets send commands through the API, retrying with the same
Idempotency-Key, while the primary of a Patroni cluster (PostgreSQL and its Patroni) is killed with kill -9, twice.
Handoff is given the multi-host URL only; nothing restarts it. Afterwards every acknowledged command is in the log
exactly once, no stream has a gap, the views equal a rebuild, and each failover's unavailability is reported: from
the last answer before the kill to the first answer after it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from service.infra.embedded_postgres import create_database
from tests.faults.checks import Tally, check_after_load
from tests.faults.harness import ApiProcess, Command, Load
from tests.faults.patroni import Cluster, wait_for
from tests.faults.school import open_handoff, seed_school

FAILOVERS = 2
CHILDREN = 48
PAUSE = 0.4
"""Each tablet's pause between commands: the load lasts through both failovers and the rejoin between them."""


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    found = Cluster(2)
    try:
        found.start()
        yield found
    finally:
        found.stop()


def unavailability(commands: list[Command], killed_at: float) -> float:
    """From the last answer before the kill to the first new write after it: the first command sent after the kill
    and recorded afresh (one answered from its stored answer, kept in the process, needs no database)."""
    answered = [c for c in commands if c.acknowledged and c.sent_at and c.answered_at and c.answer]
    before = max((c.answered_at for c in answered if c.answered_at and c.answered_at <= killed_at), default=killed_at)
    fresh = [c for c in answered if c.sent_at and c.sent_at > killed_at and c.answer and not c.answer["replayed"]]
    after = min((c.answered_at for c in fresh if c.answered_at), default=float("inf"))
    return after - before


@pytest.mark.timeout(300)
def test_the_primary_killed_twice_under_load_loses_no_acknowledged_command(
    cluster: Cluster, tmp_path: Path, tally: Tally
) -> None:
    url = create_database(cluster.url(), "handoff")
    handoff = open_handoff(url, tmp_path)
    school = seed_school(handoff, CHILDREN)
    handoff.close()
    api = ApiProcess(url, tmp_path)
    api.start()
    load = Load(api.url, school, pause=PAUSE)
    kills: list[tuple[str, float]] = []
    try:
        load.start()
        for failover in range(1, FAILOVERS + 1):
            load.wait_for(load.total * failover // (FAILOVERS + 3), timeout=120)
            assert load.answered < load.total, "killed under load"
            primary = cluster.wait_until_healthy()
            kills.append((primary.name, time.monotonic()))
            primary.kill()
            wait_for(lambda: cluster.primary() not in (None, primary), 60, "no replica was promoted")  # noqa: B023
            primary.start()  # it rewinds and rejoins as the synchronous replica
            cluster.wait_until_healthy()
        load.join(timeout=180)
        primary = cluster.wait_until_healthy()
        on_primary = {"role": "primary", "server": f"127.0.0.1:{primary.port}"}
        database = httpx2.get(f"{api.url}/health").json()["database"]
        assert database == dict.fromkeys(("events", "views", "keys"), on_primary), "every pool on the new primary"
        tally.faults = len(kills)
        check_after_load(url, tmp_path, load, api.stop, tally)
    finally:
        api.stop()
    gaps = [unavailability(load.commands, at) for _, at in kills]
    shown = (f"{gap:.1f} s ({name} killed)" for gap, (name, _) in zip(gaps, kills, strict=True))
    tally.notes.append("unavailable " + ", ".join(shown))
    replayed = sum(1 for command in load.commands if command.answer and command.answer["replayed"])
    tally.notes.append(f"{replayed} answered from the stored answer")
    assert all(gap < 60 for gap in gaps), gaps
