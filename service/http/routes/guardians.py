"""Routes of a child's guardian list: authorise and revoke guardians, pickup codes, leaving alone, flagged people."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from service.http.deps import ChildId, Command, HandoffApp
from service.http.schemas.common import ErrorResponse, Ref
from service.http.schemas.guardians import (
    FlagLiftRequest,
    FlagRequest,
    GuardianAuthorisationRequest,
    GuardianRevocationRequest,
    GuardiansResponse,
    PickupCodeRequest,
    SelfReleaseRequest,
)

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422)}
guardians = APIRouter(prefix="/api/v1/schools/{school_id}/children/{child_id}", responses=ERRORS)


@guardians.post("/guardians", response_model=GuardiansResponse, summary="Authorise a guardian to collect the child")
def authorise_guardian(
    child_id: ChildId, body: GuardianAuthorisationRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(
        handoff.guardian_list.authorise_guardian(
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


@guardians.post("/guardians/{guardian_id}/revocation", response_model=GuardiansResponse, summary="Revoke a guardian")
def revoke_guardian(
    child_id: ChildId,
    guardian_id: Annotated[Ref, Path()],
    body: GuardianRevocationRequest,
    command: Command,
    handoff: HandoffApp,
) -> dict:
    return command.done(
        handoff.guardian_list.revoke_guardian(command.context(body), child_id, guardian_id, body.reason)
    )


@guardians.put("/self-release", response_model=GuardiansResponse, summary="Allow or withdraw leaving alone")
def self_release(child_id: ChildId, body: SelfReleaseRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.guardian_list.allow_self_release(command.context(body), child_id, body.not_before))


@guardians.put(
    "/guardians/{guardian_id}/pickup-code", response_model=GuardiansResponse, summary="Set a new pickup code"
)
def pickup_code(
    child_id: ChildId,
    guardian_id: Annotated[Ref, Path()],
    body: PickupCodeRequest,
    command: Command,
    handoff: HandoffApp,
) -> dict:
    return command.done(
        handoff.guardian_list.change_pickup_code(command.context(body), child_id, guardian_id, body.pickup_code)
    )


@guardians.post("/flags", response_model=GuardiansResponse, summary="Flag a person who must never collect the child")
def flag(child_id: ChildId, body: FlagRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.guardian_list.flag_person(command.context(body), child_id, body.person_id, body.reason, body.name)
    )


@guardians.post("/flags/{person_id}/lift", response_model=GuardiansResponse, summary="Lift a flag")
def lift_flag(
    child_id: ChildId,
    person_id: Annotated[Ref, Path()],
    body: FlagLiftRequest,
    command: Command,
    handoff: HandoffApp,
) -> dict:
    return command.done(handoff.guardian_list.lift_flag(command.context(body), child_id, person_id, body.reason))
