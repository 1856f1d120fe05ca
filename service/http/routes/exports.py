"""Export routes (督导检查): a school's or a district's audit trail for a date range, as a zip of the bundle that
`handoff verify` and the bundle's own verify.py check. Every export is recorded as a disclosure."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from aggregates.base import DomainError
from service.application.context import CommandContext
from service.audit.exports import Exporter, require_export
from service.http.deps import CurrentActor, HandoffApp, SchoolId
from service.http.schemas.common import IDEMPOTENCY_KEY_PATTERN, ErrorResponse, Ref
from service.http.schemas.exports import ExportRequest, SigningKeys
from service.infra.signing_keys import published

ERRORS = {s: {"model": ErrorResponse} for s in (401, 403, 404, 422, 503)}
exports = APIRouter(responses=ERRORS)
ZIP = {200: {"content": {"application/zip": {}}, "description": "The bundle, zipped: unzip it, then verify it"}}


class ExportsNotAvailableError(DomainError):
    status = 503
    code = "exports_not_available"
    message = "Exports need the PostgreSQL store and the checkpoint key; this server has neither."


def get_exporter(request: Request) -> Exporter:
    found: Exporter | None = getattr(request.app.state, "exporter", None)
    if found is None:
        raise ExportsNotAvailableError
    return found


ExporterDep = Annotated[Exporter, Depends(get_exporter)]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN)]


@dataclass
class ExportCall:
    """What an export request brings besides its body and scope: who asks, the application, the exporter, the key."""

    actor: CurrentActor
    handoff: HandoffApp
    exporter: ExporterDep
    key: IdempotencyKey
    request: Request

    def zipped(self, body: ExportRequest, school_id: str, schools: list[str], name: str) -> FileResponse:
        """Export the schools' trail as one zip, recorded as a disclosure under the request's Idempotency-Key."""
        payload = body.model_dump(mode="json")
        operation = f"{self.request.method} {self.request.scope['route'].path}"
        ctx = CommandContext(self.actor, school_id, body.device_id, body.device_time, self.key, operation, payload)
        days = (body.day_from, body.day_to)
        requested_by = body.requested_by or self.actor.staff_id
        archive, summary = self.exporter.export_zip(ctx, schools, days, body.reason, requested_by, body.with_names)
        return FileResponse(
            archive,
            media_type="application/zip",
            filename=f"handoff-export-{name}-{body.day_from}-{body.day_to}.zip",
            headers={"Handoff-Events": str(summary.events), "Cache-Control": "no-store"},
            background=BackgroundTask(shutil.rmtree, archive.parent, ignore_errors=True),
        )


Exporting = Annotated[ExportCall, Depends()]


@exports.post(
    "/api/v1/schools/{school_id}/exports",
    response_class=FileResponse,
    responses=ZIP,
    summary="Export the school's audit trail (school admins, the district's regulator)",
)
def school_export(school_id: SchoolId, body: ExportRequest, call: Exporting) -> FileResponse:
    require_export(call.actor, call.handoff, school_id, body.with_names)
    return call.zipped(body, school_id, [school_id], school_id)


@exports.post(
    "/api/v1/districts/{district_id}/exports",
    response_class=FileResponse,
    responses=ZIP,
    summary="Export the audit trail of every school of the district (the district's regulator)",
)
def district_export(district_id: Annotated[Ref, Path()], body: ExportRequest, call: Exporting) -> FileResponse:
    call.actor.require_district("export_district", district_id)
    schools = call.exporter.district_schools(district_id)
    for school_id in schools:
        require_export(call.actor, call.handoff, school_id, body.with_names)
    return call.zipped(body, schools[0] if schools else district_id, schools, district_id)


@exports.get(
    "/api/v1/signing-keys",
    response_model=SigningKeys,
    summary="The keys that sign checkpoints and exports, with the fingerprint regulators pin, and the witness's vkey"
    " (no token needed)",
)
def signing_keys(exporter: ExporterDep) -> SigningKeys:
    keys = published(exporter.key, exporter.history)
    return SigningKeys.model_validate({**keys, "witness": exporter.published_witness()})
