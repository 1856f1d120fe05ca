"""The envelope every event carries is declared once (events.envelope.Envelope) for events and for a command's
metadata; the TypedDict that types event constructors (Stamp) must name exactly the same fields with the same types."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone
from typing import get_type_hints
from uuid import uuid4

from aggregates.base import EventMeta, stamp
from events.custody import ChildCheckedIn
from events.envelope import Envelope, HandoffEvent, Stamp


def test_the_stamp_names_every_field_an_event_has_before_its_own() -> None:
    assert set(get_type_hints(Stamp)) == {f.name for f in fields(HandoffEvent)}  # type: ignore[arg-type]


def test_the_stamp_types_the_envelope_as_the_envelope_does() -> None:
    envelope, typed = get_type_hints(Envelope), get_type_hints(Stamp)
    assert {name: typed[name] for name in envelope} == envelope


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
