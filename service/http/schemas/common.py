"""API schemas shared by every resource: ids, dates, the command envelope, errors and plain answers."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from aggregates.guardians import weak_pickup_code

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
Reason = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=60, strip_whitespace=True)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{5,19}$")]
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,128}$"


def _iso_8601(value: object) -> object:
    """Dates and instants are written YYYY-MM-DD…; pydantic alone would also read a number as seconds since 1970."""
    if isinstance(value, date) or (isinstance(value, str) and re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)):
        return value
    raise ValueError("write it in ISO 8601, e.g. 2026-11-30 or 2026-11-30T16:30:00+08:00")


IsoDate = Annotated[date, BeforeValidator(_iso_8601)]
IsoInstant = Annotated[AwareDatetime, BeforeValidator(_iso_8601)]


class Request(BaseModel):
    """Every request rejects unknown fields."""

    model_config = ConfigDict(extra="forbid")


class CommandRequest(Request):
    """Every command says which device sent it and when, by the device's clock."""

    device_id: Ref
    device_time: IsoInstant = Field(description="The device's clock when the action happened, with its offset")


class HistoryEntry(BaseModel):
    type: str
    version: int
    server_time: str
    device_time: str
    actor_id: str
    actor_role: str
    device_id: str
    details: dict[str, object]


class ErrorResponse(BaseModel):
    code: str = Field(description="Stable machine code")
    message: str = Field(description="What was wrong, in plain words")


class PlainAnswer(BaseModel):
    """The answer to a planning or erasure command."""

    model_config = ConfigDict(extra="allow")
    replayed: bool
