"""API schemas of a child's guardian list: authorisations, pickup codes, leaving alone, flagged people."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from service.http.schemas.common import (
    CommandRequest,
    IsoDate,
    Name,
    NewPickupCode,
    NoControlCharacters,
    Phone,
    Reason,
    Ref,
)

Relation = Annotated[str, NoControlCharacters, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]


class GuardianAuthorisationRequest(CommandRequest):
    guardian_id: Ref
    relation: Relation
    pickup_code: NewPickupCode
    valid_from: IsoDate | None = None
    valid_until: IsoDate | None = None
    name: Name | None = Field(default=None, description="Sealed with the child's key; never stored in clear")
    phone: Phone | None = Field(default=None, description="Sealed with the child's key; never stored in clear")
    photo_ref: Ref | None = Field(default=None, description="Reference to the photo in the school's photo store")


class PickupCodeRequest(CommandRequest):
    pickup_code: NewPickupCode


class GuardianRevocationRequest(CommandRequest):
    reason: Reason


class SelfReleaseRequest(CommandRequest):
    not_before: time | None = Field(description="Local time from which the child may leave alone; null withdraws it")


class FlagRequest(CommandRequest):
    person_id: Ref
    reason: Reason
    name: Name | None = None


class FlagLiftRequest(CommandRequest):
    """Why a person flagged as never to collect the child may be considered again."""

    reason: Reason


class GuardianEntry(BaseModel):
    guardian_id: str
    relation: str
    valid_from: date | None
    valid_until: date | None


class GuardiansResponse(BaseModel):
    child_id: str
    authorisation_version: int
    guardians: list[GuardianEntry]
    flagged: list[str] = Field(description="People who must never collect the child")
    self_release_not_before: str | None
    replayed: bool
