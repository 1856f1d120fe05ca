"""API schemas of audit exports: what a regulator or admin asks to export."""

from __future__ import annotations

from pydantic import Field, StrictBool

from service.http.schemas.common import CommandRequest, IsoDate, Reason, Ref


class ExportRequest(CommandRequest):
    day_from: IsoDate = Field(description="First service day")
    day_to: IsoDate = Field(description="Last service day (at most 366 days after the first)")
    reason: Reason = Field(description="Why the export is made; recorded with it")
    requested_by: Ref | None = Field(default=None, description="Who asked for it; the caller if omitted")
    with_names: StrictBool = Field(default=False, description="Children's names instead of pseudonyms (admins only)")
