"""What a school's admin and the district's regulator read about audits: the school's own counts (the district
summary's, for one school) and the disclosure log, who exported what, when and why."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from service.http.deps import CurrentActor, SchoolId
from service.http.routes.views import ERRORS, Paged, ViewsDep
from service.http.schemas.common import IsoDate, Ref
from service.http.schemas.disclosures import DisclosuresResponse
from service.http.schemas.views import DistrictSummaryResponse

disclosures = APIRouter(responses=ERRORS)


@disclosures.get(
    "/api/v1/schools/{school_id}/summary",
    response_model=DistrictSummaryResponse,
    summary="The school's own counts per day, as the district summary has them (the school's admin)",
)
def school_summary(
    school_id: SchoolId,
    actor: CurrentActor,
    read: ViewsDep,
    day_from: Annotated[IsoDate, Query(alias="from")],
    day_to: Annotated[IsoDate, Query(alias="to")],
) -> dict[str, Any]:
    return read.school_summary(actor, school_id, day_from, day_to)


@disclosures.get(
    "/api/v1/schools/{school_id}/disclosures",
    response_model=DisclosuresResponse,
    summary="The school's disclosure log (披露记录): every audit export of its records (the school's admin)",
)
def school_disclosures(school_id: SchoolId, actor: CurrentActor, read: ViewsDep, page: Paged) -> dict[str, Any]:
    return read.school_disclosures(actor, school_id, page.limit, page.offset)


@disclosures.get(
    "/api/v1/districts/{district_id}/disclosures",
    response_model=DisclosuresResponse,
    summary="Every audit export of the district's schools (the district's regulator)",
)
def district_disclosures(
    district_id: Annotated[Ref, Path()], actor: CurrentActor, read: ViewsDep, page: Paged
) -> dict[str, Any]:
    return read.district_disclosures(actor, district_id, page.limit, page.offset)
