"""Every stored event survives the trip to a stored event and back, through the application's JSON transcoder.

The event classes are discovered from events/*.py, so a new event is covered (or fails loudly, when it has a field
type this file cannot generate) without anyone remembering to add it here.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import events
from events.custody import CustodyEvent
from events.enrolment import EnrolmentEvent
from events.envelope import HandoffEvent
from events.gate_guard import GateGuardEvent
from events.guardians import GuardiansEvent
from events.incidents import IncidentEvent
from events.signin import SignInGuardEvent
from events.staff import StaffEvent

ABSTRACT_BASES = {
    HandoffEvent,
    CustodyEvent,
    GuardiansEvent,
    StaffEvent,
    EnrolmentEvent,
    IncidentEvent,
    GateGuardEvent,
    SignInGuardEvent,
}
RESERVED_KEYS = {"_type_", "_data_"}
"""A JSON object with exactly these keys is read back by JSONTranscoder as a custom type, not as a dict."""


def discover_event_classes() -> list[type[HandoffEvent]]:
    """Concrete HandoffEvent subclasses defined (not merely imported) in events/*.py."""
    found = []
    for path in sorted(Path(events.__file__).parent.glob("*.py")):
        module = importlib.import_module(f"events.{path.stem}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, HandoffEvent) and cls.__module__ == module.__name__ and cls not in ABSTRACT_BASES:
                found.append(cls)
    return found


EVENT_CLASSES = discover_event_classes()


def application_mapper() -> Mapper:
    """The mapper as eventsourcing.application.Application builds it: JSON with UUID, Decimal and datetime."""
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    return Mapper(transcoder=transcoder)


# Field values, from the field's type annotation.

offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
aware_datetimes = st.datetimes(timezones=st.one_of(st.just(timezone.utc), offsets))
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(), inner, max_size=4).filter(lambda d: set(d) != RESERVED_KEYS),
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=6).filter(lambda d: set(d) != RESERVED_KEYS)

SIMPLE = {str: st.text(), int: st.integers(), bool: st.booleans(), datetime: aware_datetimes, UUID: st.uuids()}


def values_for(annotation: Any) -> st.SearchStrategy:
    if annotation in SIMPLE:
        return SIMPLE[annotation]
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return st.sampled_from(list(annotation))  # stored as its text, and equal to it when read back
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([st.none() if arg is type(None) else values_for(arg) for arg in args])
    if origin is dict and args == (str, Any):
        return json_objects
    if origin is dict and args == (str, str):
        return st.dictionaries(st.text(), st.text(), max_size=6).filter(lambda d: set(d) != RESERVED_KEYS)
    if origin is list:
        return st.lists(values_for(args[0]), max_size=5)
    raise TypeError(f"no value strategy for field type {annotation!r}: teach values_for() about it")


def events_of(cls: type[HandoffEvent]) -> st.SearchStrategy:
    hints = typing.get_type_hints(cls)
    return st.builds(cls, **{name: values_for(hints[name]) for name in cls.__dataclass_fields__})


# Tests


def test_every_event_module_contributes_and_at_least_15_event_classes_are_found():
    assert len(EVENT_CLASSES) >= 15
    modules = {cls.__module__ for cls in EVENT_CLASSES}
    assert modules == {
        "events.audit",
        "events.custody",
        "events.duty_rounds",
        "events.enrolment",
        "events.gate_guard",
        "events.signin",
        "events.guardians",
        "events.idempotency",
        "events.incidents",
        "events.notifications",
        "events.planning",
        "events.roster",
        "events.school",
        "events.staff",
    }


def test_abstract_bases_are_not_treated_as_events():
    assert not ABSTRACT_BASES & set(EVENT_CLASSES)


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_every_field_of_every_event_has_a_value_strategy(event_class):
    for annotation in typing.get_type_hints(event_class).values():
        values_for(annotation)


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=25, database=None)
@given(data=st.data())
def test_every_event_round_trips_through_the_application_mapper(event_class, data):
    mapper = application_mapper()
    event = data.draw(events_of(event_class))
    stored = mapper.to_stored_event(event)
    restored = mapper.to_domain_event(stored)
    assert type(restored) is event_class
    assert restored == event
