"""API schemas shared by every resource: ids, dates, the command envelope, errors and plain answers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from aggregates.base import DomainError
from aggregates.guardians import weak_pickup_code
from service.application import text as rules

Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
"""An id of a school, child, staff member, guardian or place: letters, digits, _ . - (at most 64)."""
PickupCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,8}$")]


def _hard_to_guess(code: str) -> str:
    if weak_pickup_code(code):
        raise ValueError(
            "this pickup code is too easy to guess (one digit repeated, digits in sequence, or a repeated block)"
        )
    return code


NewPickupCode = Annotated[PickupCode, AfterValidator(_hard_to_guess)]
"""A code being given to a guardian: 4 to 8 digits, and not one that anyone would try first."""


def _refusal(error: DomainError) -> PydanticCustomError:
    """A domain refusal as a validation error whose type is the refusal's stable code (see the error mapping)."""
    return PydanticCustomError(error.code, error.text)


def _no_control_characters(value: object) -> object:
    if isinstance(value, str) and rules.has_control_characters(value):
        raise _refusal(rules.TextControlCharactersError())
    return value


NoControlCharacters = BeforeValidator(_no_control_characters)
"""Marks text a person typed (checked before any stripping, so a trailing control character is refused)."""
Reason = Annotated[str, NoControlCharacters, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
Name = Annotated[
    str, NoControlCharacters, StringConstraints(min_length=1, max_length=rules.NAME_MAX, strip_whitespace=True)
]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{5,19}$")]
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,128}$"


def _iso_8601(value: object) -> object:
    """Dates and instants are written YYYY-MM-DD…; pydantic alone would also read a number as seconds since 1970."""
    if isinstance(value, date) or (isinstance(value, str) and re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)):
        return value
    raise ValueError("write it in ISO 8601, e.g. 2026-11-30 or 2026-11-30T16:30:00+08:00")


def _in_range(value: Any) -> Any:
    try:
        return rules.checked_instant(value) if isinstance(value, datetime) else rules.checked_day(value)
    except DomainError as error:
        raise _refusal(error) from None


IsoDate = Annotated[date, BeforeValidator(_iso_8601), AfterValidator(_in_range)]
"""A date between 2000-01-01 and 2099-12-31, written YYYY-MM-DD."""
IsoInstant = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_in_range)]
"""An instant with its offset, between 2000 and 2099."""


def _device_clock_in_range(value: datetime) -> datetime:
    try:
        return rules.checked_instant(value)
    except DomainError:
        raise _refusal(rules.DeviceTimeOutOfRangeError()) from None


DeviceTime = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_device_clock_in_range)]
"""A device's clock: an instant with its offset, and (checked against the server's clock) within a day of it."""


class Request(BaseModel):
    """Every request rejects unknown fields."""

    model_config = ConfigDict(extra="forbid")


class CommandRequest(Request):
    """Every command says which device sent it and when, by the device's clock."""

    device_id: Ref
    device_time: DeviceTime = Field(description="The device's clock when the action happened, with its offset")


class ErrorResponse(BaseModel):
    code: str = Field(description="Stable machine code")
    message: str = Field(description="What was wrong, in plain words")
    tries_left: int | None = Field(default=None, description="wrong_pin: wrong PINs left today before the lock")


class PlainAnswer(BaseModel):
    """The answer to a planning or erasure command."""

    model_config = ConfigDict(extra="allow")
    replayed: bool
