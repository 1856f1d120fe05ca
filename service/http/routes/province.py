"""The province view (省级汇总): counts per district from every shard, for the province regulator."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from service.http.deps import CurrentActor
from service.http.schemas.common import ErrorResponse, IsoDate
from service.http.schemas.views import ProvinceSummaryResponse
from service.reads.province import Province
from service.reads.readside import ViewsNotReadyError

ERRORS = {s: {"model": ErrorResponse} for s in (401, 403, 422, 503)}
province = APIRouter(prefix="/api/v1/province", responses=ERRORS)


def get_province(request: Request) -> Province:
    found: Province | None = request.app.state.province
    if found is None:
        raise ViewsNotReadyError
    return found


@province.get("/summary", response_model=ProvinceSummaryResponse, summary="Province summary (省级汇总)")
def province_summary(
    actor: CurrentActor,
    read: Annotated[Province, Depends(get_province)],
    day_from: Annotated[IsoDate, Query(alias="from")],
    day_to: Annotated[IsoDate, Query(alias="to")],
) -> dict[str, Any]:
    return read.summary(actor, day_from, day_to)
