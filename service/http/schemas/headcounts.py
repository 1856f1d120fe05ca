"""API schemas of a place's headcounts (清点人数) and the duty leaders' inspection rounds (值班巡查)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from service.http.schemas.common import CommandRequest, NoControlCharacters, Ref

Findings = Annotated[str, NoControlCharacters, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]


class HeadcountRequest(CommandRequest):
    """The children counted at the place (清点人数)."""

    present: Annotated[list[Ref], Field(max_length=100)]


class HeadcountResponse(BaseModel):
    place_code: str
    service_day: str
    expected: list[str]
    missing: list[str] = Field(description="Expected here but not counted: a missing-child incident opens")
    extra: list[str]
    replayed: bool


class DutyRoundRequest(CommandRequest):
    """One inspection on the duty leader's round: what they found (no names or phone numbers)."""

    findings: Findings
    all_well: StrictBool


class DutyRoundResponse(BaseModel):
    service_day: str
    inspected: list[str] = Field(description="Places inspected today, in order")
    replayed: bool
