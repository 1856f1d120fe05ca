"""Fields declared once on a dataclass, read as a TypedDict (scripts/mypy_event_fields.py), are checked by mypy:

- `EventFields[SomeEvent]` (events.envelope) is the TypedDict of that event class's fields, so every stamp and every
  constructor call that takes one is checked field by field;
- `typed_dict_of("Name", SomeDataclass, key=type)` (replay.shapes) is a TypedDict class that others extend.

Each probe below is wrong in one way that only such a typed dict can show; mypy, run with the project's
configuration, must refuse each one on its own line, and pass the right ones."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBES = """
from datetime import datetime, timezone
from typing import Any
from uuid import uuid4

from events.custody import ChildCheckedIn, CustodyEvent, CustodyState, Status
from events.envelope import EventFields
from replay.shapes import typed_dict_of

NOW = datetime(2026, 12, 4, tzinfo=timezone.utc)


def stamped() -> EventFields[CustodyEvent]:
    return {
        "originator_id": uuid4(), "originator_version": 1, "timestamp": NOW, "device_time": NOW, "school_id": "S1",
        "actor_id": "t1", "actor_role": "teacher", "device_id": "d1", "idempotency_key": "k",
        "clock_skew_seconds": 0, "child_id": "C1", "service_day": "2026-12-04",
    }


def untyped() -> dict[str, Any]:
    return dict(stamped())


def no_day() -> EventFields[CustodyEvent]:
    return {  # PROBE missing-key
        "originator_id": uuid4(), "originator_version": 1, "timestamp": NOW, "device_time": NOW, "school_id": "S1",
        "actor_id": "t1", "actor_role": "teacher", "device_id": "d1", "idempotency_key": "k",
        "clock_skew_seconds": 0, "child_id": "C1",
    }


def numbered_child() -> EventFields[CustodyEvent]:
    return {**stamped(), "child_id": 7}  # PROBE wrong-stamp-type


right = ChildCheckedIn(**stamped(), custodian_id="t1", place_code="T1", handed_over_by=None)
unchecked = ChildCheckedIn(**untyped(), custodian_id="t1", place_code="T1")
forgotten = ChildCheckedIn(**stamped(), custodian_id="t1", place_code="T1")  # PROBE missing-field
mistyped = ChildCheckedIn(**stamped(), custodian_id="t1", place_code=1, handed_over_by=None)  # PROBE wrong-type
not_an_event: EventFields[int]  # PROBE not-an-event

Shown = typed_dict_of("Shown", CustodyState, child_id=str)


class Later(Shown):
    at: str


def later() -> Later:
    return {
        "child_id": "C1", "status": Status.EXPECTED, "custodian_id": None, "place_code": None, "arrived_guardians": [],
        "confirmed_guardian_id": None, "released_to": None, "self_released": False, "at": "16:30",
    }


childless: Later = {**later(), "child_id": None}  # PROBE wrong-key-type
unsure: Later = {**later(), "self_released": "yes"}  # PROBE wrong-inherited-type
statusless = later()["state"]  # PROBE no-such-key
Misnamed = typed_dict_of("Other", CustodyState)  # PROBE name-not-its-own
"""


def test_mypy_checks_stamps_and_constructors_field_by_field(tmp_path: Path) -> None:
    probe = tmp_path / "probes.py"
    probe.write_text(PROBES)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            str(probe),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = {int(line) for line in re.findall(r"probes\.py:(\d+): error", run.stdout)}
    expected = {n for n, line in enumerate(PROBES.splitlines(), start=1) if "# PROBE" in line}
    assert len(expected) == 9
    assert errors == expected, run.stdout
