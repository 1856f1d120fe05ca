"""Routes of a child's custody day: check-in, transfer, guardian arrival, mutual confirmation, release,
absence, the day's record, correction and the pickup-code unlock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from service.http.deps import ChildId, Command, CurrentActor, HandoffApp, SchoolId
from service.http.schemas.children import (
    AbsenceRequest,
    CheckInRequest,
    ChildDayResponse,
    CodeUnlockRequest,
    CommandResponse,
    ConfirmationRequest,
    CorrectionRequest,
    GuardianArrivalRequest,
    MismatchReviewRequest,
    ReleaseRequest,
    TransferRequest,
)
from service.http.schemas.common import ErrorResponse, IsoDate

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422)}
children = APIRouter(prefix="/api/v1/schools/{school_id}/children/{child_id}", responses=ERRORS)


@children.post("/check-in", response_model=CommandResponse, summary="Check a child in to after-school care (签到)")
def check_in(child_id: ChildId, body: CheckInRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.care.check_in(command.context(body), child_id, body.place_code, body.custodian_id, body.handed_over_by)
    )


@children.post(
    "/transfer", response_model=CommandResponse, summary="Hand a child over to another adult and place (交接)"
)
def transfer(child_id: ChildId, body: TransferRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.care.transfer(command.context(body), child_id, body.to_custodian_id, body.to_place_code)
    )


@children.post(
    "/guardian-arrival", response_model=CommandResponse, summary="Register a guardian at the gate (家长到达)"
)
def guardian_arrival(child_id: ChildId, body: GuardianArrivalRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.care.register_arrival(
            command.context(body), child_id, body.guardian_id, body.verification, body.pickup_code
        )
    )


@children.post(
    "/confirmation", response_model=CommandResponse, summary="Guardian and child confirm each other (互相确认)"
)
def confirmation(child_id: ChildId, body: ConfirmationRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.care.confirm(
            command.context(body),
            child_id,
            body.guardian_id,
            body.guardian_recognised_child,
            body.child_recognised_guardian,
        )
    )


@children.post("/release", response_model=CommandResponse, summary="Release a child (离校)")
def release(child_id: ChildId, body: ReleaseRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.care.release(command.context(body), child_id, body.guardian_id))


@children.post("/absence", response_model=CommandResponse, summary="Mark a child absent today (缺勤)")
def absence(child_id: ChildId, body: AbsenceRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.care.mark_absent(command.context(body), child_id, body.reason))


@children.get("/days/{day}", response_model=ChildDayResponse, summary="A child's day: status, custodian, history")
def child_day(
    school_id: SchoolId,
    child_id: ChildId,
    day: Annotated[IsoDate, Path(description="Service day, YYYY-MM-DD")],
    actor: CurrentActor,
    handoff: HandoffApp,
) -> dict:
    return handoff.care.child_day(actor, school_id, child_id, day)


@children.post(
    "/days/{day}/correction", response_model=CommandResponse, summary="Correct the latest record of the day (更正)"
)
def correction(
    child_id: ChildId,
    day: Annotated[IsoDate, Path(description="Service day, YYYY-MM-DD")],
    body: CorrectionRequest,
    command: Command,
    handoff: HandoffApp,
) -> dict:
    return command.done(handoff.care.correct(command.context(body), child_id, day, body.reason))


@children.post("/pickup-code-unlock", response_model=CommandResponse, summary="Lift the pickup-code lock (duty leader)")
def unlock_code_entry(child_id: ChildId, body: CodeUnlockRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.care.unlock_code_entry(command.context(body), child_id, body.reason))


@children.post(
    "/confirmation-review",
    response_model=CommandResponse,
    summary="Review a failed guardian and child confirmation (duty leader)",
)
def confirmation_review(child_id: ChildId, body: MismatchReviewRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.care.review_mismatch(command.context(body), child_id, body.guardian_id, body.reason))
