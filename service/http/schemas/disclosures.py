"""API schemas of the school's own figures and the disclosure log (披露记录) of audit exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Disclosure(BaseModel):
    """One audit export: who made it, for whom, when, why, which schools and days."""

    disclosure_id: str
    made_at: datetime = Field(description="When the export was made (server time)")
    actor_id: str = Field(description="The staff member who made it (from their token)")
    actor_role: str = Field(description="Their role: admin, regulator, or system for the command line")
    requested_by: str = Field(description="Who asked for it")
    reason: str = Field(description="Why, as recorded with it")
    day_from: str
    day_to: str
    pseudonymised: bool = Field(description="Pseudonyms instead of ids and names")
    schools: list[str] = Field(description="Every school the bundle covered")
    head: dict[str, Any] | None = Field(
        default=None, description="This school's tree size and root the bundle carried (school logs only)"
    )


class DisclosuresResponse(BaseModel):
    scope: str = Field(description="The school, or the district")
    limit: int
    offset: int
    items: list[Disclosure] = Field(description="Newest first")
