"""Any value the log can hold, in a form PostgreSQL stores and Python reads back.

The log keeps events as JSON bytes, which may hold what a view's columns cannot: a NUL in text (PostgreSQL text and
jsonb refuse it), a lone surrogate (not UTF-8), or an instant whose UTC falls outside Python's years 1-9999 (stored
by PostgreSQL, but never read back). The boundary refuses all of these today; events recorded before it did, or by
a future path that forgets, are made storable here, visibly (U+FFFD, the replacement character), never dropped."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Any, TypeVar

REPLACEMENT = "\ufffd"
EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc)
LATEST = datetime(9999, 12, 30, tzinfo=timezone.utc)
"""A day inside Python's range, so that a session in any time zone reads the instant back."""
Event = TypeVar("Event")


def storable(event: Event) -> Event:
    """The event itself when every field is storable (nearly always), else a copy with the fields made storable."""
    changed = {}
    for field in dataclasses.fields(event):  # type: ignore[arg-type]
        value = getattr(event, field.name)
        cleaned = storable_value(value)
        if cleaned is not value:
            changed[field.name] = cleaned
    if not changed:
        return event
    copy = object.__new__(type(event))
    copy.__dict__.update({**event.__dict__, **changed})
    return copy


def storable_value(value: Any) -> Any:
    """The value, or (only when needed) a storable copy of it."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, (list, tuple)):
        cleaned = [storable_value(item) for item in value]
        return value if all(a is b for a, b in zip(cleaned, value, strict=True)) else type(value)(cleaned)
    if isinstance(value, dict):
        pairs = [(storable_value(k), storable_value(v)) for k, v in value.items()]
        same = all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items(), strict=True))
        return value if same else dict(pairs)
    return value


def _text(value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", REPLACEMENT)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def _instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:
        return EARLIEST if value.year < 5000 else LATEST
    return EARLIEST if utc < EARLIEST else LATEST if utc > LATEST else value
