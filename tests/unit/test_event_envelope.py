"""The envelope every event carries is declared once (events.envelope.Envelope) for events and for a command's
metadata, and a stream's stamp carries all of it onto each event. (That mypy checks the stamp and each constructor
field by field is tests/architecture/test_event_fields_plugin.py.)"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone
from uuid import uuid4

from aggregates.base import EventMeta, stamp
from events.custody import ChildCheckedIn
from events.envelope import Envelope


def test_a_commands_metadata_is_the_envelope_and_the_server_time() -> None:
    assert [f.name for f in fields(EventMeta)] == [*(f.name for f in fields(Envelope)), "timestamp"]


def test_an_event_made_from_a_stamp_carries_the_whole_envelope() -> None:
    now = datetime(2026, 12, 3, 8, 30, tzinfo=timezone.utc)
    meta = EventMeta("S1", "t1", "teacher", "tablet-1", "key-1", now, now)
    event = ChildCheckedIn(
        **stamp(uuid4(), 0, meta),
        child_id="C1",
        service_day="2026-12-03",
        custodian_id="t1",
        place_code="T01",
        handed_over_by=None,
    )
    assert {f.name: getattr(event, f.name) for f in fields(Envelope)} == {
        f.name: getattr(meta, f.name) for f in fields(Envelope)
    }
    assert (event.timestamp, event.clock_skew_seconds, event.originator_version) == (now, 0, 1)
