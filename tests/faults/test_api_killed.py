"""kill -9 of the API while tablets send commands under load and retry them with the same idempotency keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.checks import Tally, check_every_event, check_views
from tests.faults.conftest import Seeded
from tests.faults.harness import STEPS, ApiProcess, Load
from tests.faults.school import open_handoff

KILLS = 3


@pytest.mark.timeout(150)
def test_the_api_killed_under_load_loses_nothing_and_doubles_nothing(
    seeded: Seeded, tmp_path: Path, tally: Tally
) -> None:
    api = ApiProcess(seeded.url, tmp_path)
    api.start()
    load = Load(api.url, seeded.school, quitters=1)
    try:
        load.start()
        for kill in range(1, KILLS + 1):
            load.wait_for(load.total * kill // (KILLS + 1))
            api.kill()
            api.start()
        load.join()
        handoff = open_handoff(seeded.url, tmp_path)
        try:
            tally.requests, tally.faults = load.requests, KILLS
            tally.events = check_every_event(handoff, load.commands, seeded.school.children)
            check_views(handoff, seeded.url, api.stop)
        finally:
            handoff.close()
    finally:
        api.stop()
    retried = sum(1 for command in load.commands if command.attempts > 1)
    replayed = sum(1 for command in load.commands if command.answer and command.answer["replayed"])
    abandoned = [c for c in load.commands if c.abandoned]
    tally.notes.append(
        f"{retried} commands retried, {replayed} answered from the stored answer, {len(abandoned)} abandoned"
    )
    assert len(abandoned) == 1, "one tablet gave up on a command when the API died under it"
    others = [child for n, child in enumerate(seeded.school.children) if n % load.clients]  # not the quitter's
    assert sum(c.acknowledged for c in load.commands if c.child in others) == len(others) * len(STEPS)
    assert retried > 0, "the kills hit commands in flight"
