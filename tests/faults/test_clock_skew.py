"""Tablets whose clocks are hours off: their commands are accepted, the server's clock orders everything, and the
skew is kept in every event and flagged in the timeline and the audit trail."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx2
import pytest

from events.custody import ChildCheckedIn
from service.application.handoff import Handoff
from tests.faults.conftest import Seeded
from tests.faults.harness import STEPS, ApiProcess, handoff_steps
from tests.faults.school import SCHOOL, open_handoff
from tests.integration.test_projector import wait_until
from tests.support import ctx, make_handoff, setup_school

HOURS = timedelta(hours=3)
DEVICES = (("tablet-ahead", -HOURS), ("tablet-behind", HOURS), ("tablet-right", timedelta(0)))
"""Each device's skew: how far the server's clock is ahead of the device's."""


def send(
    api: ApiProcess, token: str, child: str, path: str, body: dict[str, Any], device: str, skew: timedelta
) -> httpx2.Response:
    device_time = datetime.now(timezone.utc) - skew
    return httpx2.post(
        f"{api.url}/api/v1/schools/{SCHOOL}/children/{child}/{path}",
        json={"device_id": device, "device_time": device_time.isoformat(), **body},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
        timeout=10,
    )


@pytest.mark.timeout(90)
def test_devices_hours_off_are_accepted_in_server_order_and_flagged(seeded: Seeded, tmp_path: Path) -> None:
    api = ApiProcess(seeded.url, tmp_path)
    api.start()
    child = seeded.school.children[0]
    try:
        for n, (path, who, body) in enumerate(handoff_steps(child, 0)):
            device, skew = DEVICES[n % len(DEVICES)]  # ahead, behind, right, ahead, behind
            answer = send(api, seeded.school.tokens[who], child, path, body, device, skew)
            assert answer.status_code == 200, answer.text
        duty = {"Authorization": f"Bearer {seeded.school.tokens['duty-1']}"}
        timeline_url = f"{api.url}/api/v1/schools/{SCHOOL}/children/{child}/timeline"
        wait_until(lambda: len(httpx2.get(timeline_url, headers=duty).json()["items"]) == len(STEPS))
        timeline = httpx2.get(timeline_url, headers=duty).json()
        audit = httpx2.get(f"{api.url}/api/v1/schools/{SCHOOL}/audit", params={"child": child}, headers=duty).json()
    finally:
        api.stop()
    entries = timeline["items"]
    assert [row["event_type"] for row in entries] == list(STEPS), "in the order the server recorded them"
    assert [row["device_id"] for row in entries] == [DEVICES[n % 3][0] for n in range(5)]
    server_times = [datetime.fromisoformat(row["server_time"]) for row in entries]
    device_times = [datetime.fromisoformat(row["device_time"]) for row in entries]
    assert server_times == sorted(server_times)
    assert device_times != sorted(device_times), "by the devices' clocks the behind tablet acted before check-in"
    skews = [row["clock_skew_seconds"] for row in entries]
    expected = [DEVICES[n % 3][1].total_seconds() for n in range(5)]
    assert all(abs(found - wanted) <= 5 for found, wanted in zip(skews, expected, strict=True)), skews
    assert [row["device_clock_skewed"] for row in entries] == [True, True, False, True, True]
    changes = audit["items"]
    assert [row["kind"] for row in changes] == ["check_in", "transfer", "release"]
    assert [row["device_clock_skewed"] for row in changes] == [True, True, True]
    assert [row["clock_skew_seconds"] > 0 for row in changes] == [False, True, True]
    handoff = open_handoff(seeded.url, tmp_path)
    try:
        checked_in = [e for e in _events(handoff) if isinstance(e, ChildCheckedIn) and e.child_id == child]
    finally:
        handoff.close()
    assert len(checked_in) == 1 and abs(checked_in[0].clock_skew_seconds + HOURS.total_seconds()) <= 5
    assert checked_in[0].timestamp - checked_in[0].device_time < -HOURS + timedelta(seconds=5)


def _events(handoff: Handoff) -> list[Any]:
    return [handoff.mapper.to_domain_event(n) for n in handoff.recorder.select_notifications(1, 100_000)]


def test_events_stored_before_the_skew_was_kept_load_with_none() -> None:
    handoff = make_handoff()
    try:
        setup_school(handoff)
        handoff.care.check_in(ctx(), "C1", "T1", None, None)
        stored = handoff.recorder.select_notifications(1, 100_000)[-2]  # the check-in, before its answer
        state = json.loads(stored.state)
        assert "clock_skew_seconds" in state
        del state["clock_skew_seconds"]
        old = handoff.mapper.to_domain_event(type(stored)(**{**vars(stored), "state": json.dumps(state).encode()}))
    finally:
        handoff.close()
    assert isinstance(old, ChildCheckedIn) and old.clock_skew_seconds is None
