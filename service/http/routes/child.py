"""HTTP routes: a request schema in, one service call, a response schema out. Sync def: the stack is synchronous."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from service.http.deps import ChildId, Command, CurrentActor, HandoffApp, SchoolId
from service.http.schemas.common import (
    AbsenceRequest,
    CheckInRequest,
    ChildDayResponse,
    CommandResponse,
    ConfirmationRequest,
    CorrectionRequest,
    ErrorResponse,
    GuardianArrivalRequest,
    GuardianAuthorisationRequest,
    GuardianRevocationRequest,
    GuardiansResponse,
    IsoDate,
    PickupCodeRequest,
    Ref,
    ReleaseRequest,
    SelfReleaseRequest,
    TransferRequest,
)

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422)}
child = APIRouter(prefix="/api/v1/schools/{school_id}/children/{child_id}", responses=ERRORS)


@child.post("/check-in", response_model=CommandResponse, summary="Check a child in to after-school care (签到)")
def check_in(child_id: ChildId, body: CheckInRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.check_in(command.context(body), child_id, body.place_code, body.custodian_id, body.handed_over_by)
    )


@child.post("/transfer", response_model=CommandResponse, summary="Hand a child over to another adult and place (交接)")
def transfer(child_id: ChildId, body: TransferRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.transfer(command.context(body), child_id, body.to_custodian_id, body.to_place_code))


@child.post("/guardian-arrival", response_model=CommandResponse, summary="Register a guardian at the gate (家长到达)")
def guardian_arrival(child_id: ChildId, body: GuardianArrivalRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.register_arrival(command.context(body), child_id, body.guardian_id, body.verification, body.pickup_code)
    )


@child.post("/confirmation", response_model=CommandResponse, summary="Guardian and child confirm each other (互相确认)")
def confirmation(child_id: ChildId, body: ConfirmationRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.confirm(
            command.context(body),
            child_id,
            body.guardian_id,
            body.guardian_recognised_child,
            body.child_recognised_guardian,
        )
    )


@child.post("/release", response_model=CommandResponse, summary="Release a child (离校)")
def release(child_id: ChildId, body: ReleaseRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.release(command.context(body), child_id, body.guardian_id))


@child.post("/absence", response_model=CommandResponse, summary="Mark a child absent today (缺勤)")
def absence(child_id: ChildId, body: AbsenceRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.mark_absent(command.context(body), child_id, body.reason))


@child.get("/days/{day}", response_model=ChildDayResponse, summary="A child's day: status, custodian, history")
def child_day(
    school_id: SchoolId,
    child_id: ChildId,
    day: Annotated[IsoDate, Path(description="Service day, YYYY-MM-DD")],
    actor: CurrentActor,
    handoff: HandoffApp,
) -> dict:
    return handoff.child_day(actor, school_id, child_id, day)


@child.post("/guardians", response_model=GuardiansResponse, summary="Authorise a guardian to collect the child")
def authorise_guardian(
    child_id: ChildId, body: GuardianAuthorisationRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(
        handoff.authorise_guardian(
            command.context(body),
            child_id,
            body.guardian_id,
            body.relation,
            body.pickup_code,
            body.valid_from,
            body.valid_until,
            name=body.name,
            phone=body.phone,
            photo_ref=body.photo_ref,
        )
    )


@child.post("/guardians/{guardian_id}/revocation", response_model=GuardiansResponse, summary="Revoke a guardian")
def revoke_guardian(
    child_id: ChildId,
    guardian_id: Annotated[Ref, Path()],
    body: GuardianRevocationRequest,
    command: Command,
    handoff: HandoffApp,
) -> dict:
    return command.done(handoff.revoke_guardian(command.context(body), child_id, guardian_id, body.reason))


@child.put("/self-release", response_model=GuardiansResponse, summary="Allow or withdraw leaving alone")
def self_release(child_id: ChildId, body: SelfReleaseRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.allow_self_release(command.context(body), child_id, body.not_before))


@child.post(
    "/days/{day}/correction", response_model=CommandResponse, summary="Correct the latest record of the day (更正)"
)
def correction(
    child_id: ChildId,
    day: Annotated[IsoDate, Path(description="Service day, YYYY-MM-DD")],
    body: CorrectionRequest,
    command: Command,
    handoff: HandoffApp,
) -> dict:
    return command.done(handoff.correct(command.context(body), child_id, day, body.reason))


@child.put("/guardians/{guardian_id}/pickup-code", response_model=GuardiansResponse, summary="Set a new pickup code")
def pickup_code(
    child_id: ChildId,
    guardian_id: Annotated[Ref, Path()],
    body: PickupCodeRequest,
    command: Command,
    handoff: HandoffApp,
) -> dict:
    return command.done(handoff.change_pickup_code(command.context(body), child_id, guardian_id, body.pickup_code))


@child.post("/pickup-code-unlock", response_model=CommandResponse, summary="Lift the pickup-code lock (duty leader)")
def unlock_code_entry(child_id: ChildId, body: CorrectionRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.unlock_code_entry(command.context(body), child_id, body.reason))
