"""The projector recovers from every brief outage as fast as from the first: the backoff after a lost connection
starts again from half a second once the projector is back, however many outages it has lived through."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from aggregates.staff import Role
from service.application.context import Actor
from service.runtime import projector_supervisor
from tests.faults.checks import Tally
from tests.faults.conftest import Seeded
from tests.faults.proxy import Proxy
from tests.faults.school import DISTRICT, SCHOOL, TEACHERS, open_handoff
from tests.integration.test_projector import caught_up, wait_until
from tests.support import ctx as context_for

OUTAGES = 6
RECOVERY = 3.0
"""Seconds within which the views show a new command after an outage (the first backoff is half a second)."""


@pytest.mark.timeout(90)
def test_the_projector_recovers_quickly_from_every_outage_not_just_the_first(
    seeded: Seeded, tmp_path: Path, tally: Tally
) -> None:
    proxy = Proxy(seeded.url)
    handoff = open_handoff(seeded.url, tmp_path)
    supervisor = projector_supervisor(handoff, proxy.url)
    supervisor.start()
    recoveries = []
    try:
        wait_until(lambda: caught_up(seeded.url, handoff), timeout=30)
        for outage, child in enumerate(seeded.school.children[:OUTAGES]):
            time.sleep(0.5)  # working again for a moment: outages come one at a time, not all in one
            assert proxy.cut("handoff-projector") >= 2  # the connection it listens on, and its group's
            time.sleep(0.2)  # the workers notice, and back off
            began = time.monotonic()
            teacher = context_for(Actor(TEACHERS[0], Role.TEACHER, SCHOOL, DISTRICT), school=SCHOOL)
            handoff.care.check_in(teacher, child, "P1", None, None)
            wait_until(lambda: caught_up(seeded.url, handoff), timeout=60)
            recoveries.append(round(time.monotonic() - began, 1))
            tally.faults = outage + 1
    finally:
        supervisor.close()
        handoff.close()
        proxy.close()
    tally.notes.append(f"recovered in {recoveries} s")
    assert max(recoveries) < RECOVERY, recoveries
