"""API schemas of the read models: live occupancy, pages of view rows, the district summary."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class PlaceOccupancy(BaseModel):
    place_code: str | None
    kind: str | None
    label_zh: str | None
    label_en: str | None
    in_care: int
    guardian_arrived: int
    confirmed: int
    custodians: list[str | None]


class ClassOccupancy(BaseModel):
    temporary_class: str | None
    expected: int = Field(
        description="Enrolled, with a signed agreement covering today, today among their days and within the roster's"
        " enrolment dates"
    )
    present: int
    absent: int
    not_seen: int
    in_care: int


class OccupancyResponse(BaseModel):
    school_id: str
    service_day: date
    on_roster: int
    expected: int = Field(
        description="Children enrolled for today (agreement signed, today among their days, within the roster's"
        " enrolment dates)"
    )
    expected_not_seen: int = Field(description="Expected today, neither checked in nor marked absent")
    checked_in: int
    in_care: int
    guardian_arrived: int = Field(description="In care, with a guardian already at the gate")
    confirmed: int
    released: int
    absent: int
    not_seen: int = Field(description="On the roster, neither checked in nor marked absent")
    waiting_after_end: int = Field(description="Still in care after the school's service has ended")
    waiting_after_batch: int = Field(description="Still in care after their release batch has ended")
    places: list[PlaceOccupancy]
    classes: list[ClassOccupancy]


class OccupancyChild(BaseModel):
    child_id: str
    home_class: str | None
    grade: int | None
    status: str
    custodian_id: str | None
    place_code: str | None
    guardian_arrived: bool
    confirmed: bool
    checked_in_at: datetime | None
    released_at: datetime | None
    released_to: str | None = Field(description="The guardian the child left with; null when the child left alone")
    self_released: bool = Field(description="The child left alone, as the agreement allows")
    changed_at: datetime


class Page(BaseModel):
    school_id: str
    service_day: date
    limit: int
    offset: int


class OccupancyChildrenResponse(Page):
    items: list[OccupancyChild]


class RowsResponse(BaseModel):
    """One page of a read model's rows for one school and day."""

    school_id: str
    service_day: date
    limit: int | None = None
    offset: int | None = None
    items: list[dict[str, Any]]


class Witnessed(BaseModel):
    at: str | None = Field(description="When the newest checkpoint the witness cosigned was made; null: never")
    tree_size: int | None = Field(description="That checkpoint's tree size")
    outcome: str | None = Field(description="The newest submission's answer: cosigned, or why not (the refusal's code)")


class DistrictSummaryResponse(BaseModel):
    district_id: str
    day_from: date
    day_to: date
    schools: list[str] = Field(description="The district's schools (or the one asked for), with or without rows")
    items: list[dict[str, Any]] = Field(description="Per school and day: counts only, nothing personal")
    witnessed: dict[str, Witnessed] = Field(
        default_factory=dict, description="Per school: when the bureau's witness last cosigned its log's checkpoint"
    )


class ProvinceSummaryResponse(BaseModel):
    day_from: date
    day_to: date
    districts: list[dict[str, Any]] = Field(description="Per district (and the shard holding it): counts only")
    totals: dict[str, int] = Field(description="The districts' counts summed: schools, children served, …")
