"""The gate guard's limits per school and per device, on the aggregate alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import reduce

from aggregates.gate_guard import LIMITS, GateGuard, evolve
from events.gate_guard import GateAttemptHeldBack, GateLimitReached
from tests.support import ctx

DAY = date(2026, 11, 30)


def meta_from(device: str):  # noqa: ANN201 - an EventMeta
    return replace(ctx("gate").meta(ctx("gate").device_time), device_id=device)


def test_the_school_limit_holds_back_every_device_once_reached_across_devices() -> None:
    guard = GateGuard.opened("S1", DAY)
    school_limit = LIMITS[("pickup_code", "school")]
    devices = [f"tablet-{n}" for n in range(school_limit)]  # one wrong code each: no device reaches its own limit
    reached = []
    for device in devices:
        assert guard.check(meta_from(device), "pickup_code", "C1", "G1") == []
        counted = guard.count(meta_from(device), "pickup_code", "C1", "G1")
        reached += [e for e in counted if isinstance(e, GateLimitReached)]
        guard = reduce(evolve, counted, guard)
    assert [(e.scope, e.count) for e in reached] == [("school", school_limit)]
    (held,) = guard.check(meta_from("a-new-tablet"), "pickup_code", "C2", "G5")
    assert isinstance(held, GateAttemptHeldBack) and held.reason_code == "school_limit_reached"
    assert guard.check(meta_from("a-new-tablet"), "unknown_person", "C2", "X1") == []  # another kind of attempt


def test_the_device_limit_holds_back_that_device_only() -> None:
    guard = GateGuard.opened("S1", DAY)
    for _ in range(LIMITS[("pickup_code", "device")]):
        guard = reduce(evolve, guard.count(meta_from("tablet-1"), "pickup_code", "C1", "G1"), guard)
    assert guard.check(meta_from("tablet-1"), "pickup_code", "C1", "G1")[0].reason_code == "device_limit_reached"
    assert guard.check(meta_from("tablet-2"), "pickup_code", "C1", "G1") == []
