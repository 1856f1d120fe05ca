"""What free text and dates may hold, the same on every way in: HTTP, the command line and roster files."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta

from aggregates.base import InvalidCommandError

NAME_MAX = 60
"""Characters in a person's name, as the HTTP API and roster files take it."""
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
"""Service days, terms and instants a school can mean; anything outside is a typing error, never a plan."""
DEVICE_CLOCK_WINDOW = timedelta(hours=24)
"""How far a device's clock may be from the server's: a tablet hours off is recorded (and flagged), a year off is
refused, so that no absurd instant reaches the log."""
REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})
"""Control characters (NUL, newlines, escapes, C1 controls) and lone surrogates: no UTF-8 text of a person holds
them, and PostgreSQL cannot store NUL in text."""


class TextControlCharactersError(InvalidCommandError):
    """Free text never holds control characters."""

    code = "text_control_characters"
    message = "The text holds invisible control characters (e.g. a line break or a NUL byte); type it again."


class TextTooLongError(InvalidCommandError):
    """Every text has a maximum length."""

    code = "text_too_long"
    message = "The text is too long: at most {limit} characters."


class DateOutOfRangeError(InvalidCommandError):
    """Dates and instants lie between 2000 and 2099."""

    code = "date_out_of_range"
    message = "The date must lie between 2000-01-01 and 2099-12-31."


class DeviceTimeOutOfRangeError(InvalidCommandError):
    """The device's clock must be within a day of the server's."""

    code = "device_time_out_of_range"
    message = "The tablet's clock is more than 24 hours off the server's. Set the tablet's date and time, then retry."


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(character) in REFUSED_CATEGORIES for character in text)


def checked_text(text: str, limit: int) -> str:
    """The text, or a refusal if it holds control characters or is over the limit."""
    if has_control_characters(text):
        raise TextControlCharactersError
    if len(text) > limit:
        raise TextTooLongError(limit=limit)
    return text


def checked_day(day: date) -> date:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise DateOutOfRangeError
    return day


def checked_instant(instant: datetime) -> datetime:
    """An aware instant whose date, in its own offset and in UTC, lies in the range (so arithmetic never overflows)."""
    checked_day(instant.date())
    offset = instant.utcoffset()
    if offset is not None:
        checked_day((instant.replace(tzinfo=None) - offset).date())
    return instant


def checked_device_time(device_time: datetime, server_time: datetime) -> datetime:
    if abs(server_time - device_time) > DEVICE_CLOCK_WINDOW:
        raise DeviceTimeOutOfRangeError
    return device_time
