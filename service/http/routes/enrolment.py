"""Routes of enrolment: the four steps (家长申请 → 班级审核 → 学校复核 → 统筹安排), the safety agreement, withdrawal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from service.http.deps import ChildId, Command, CurrentActor, HandoffApp, SchoolId
from service.http.schemas.common import ErrorResponse, Ref
from service.http.schemas.enrolment import (
    AgreementRequest,
    ApplicationRequest,
    ArrangementRequest,
    EnrolmentResponse,
    ReviewRequest,
    WithdrawalRequest,
)

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 410, 422)}
TermId = Annotated[Ref, Path(description="The term, e.g. 2026-autumn")]
enrolment = APIRouter(prefix="/api/v1/schools/{school_id}/children/{child_id}", responses=ERRORS)


@enrolment.get("/enrolments/{term_id}", response_model=EnrolmentResponse, summary="Where the enrolment stands")
def enrolment_view(
    school_id: SchoolId, child_id: ChildId, term_id: TermId, actor: CurrentActor, handoff: HandoffApp
) -> dict[str, Any]:
    return handoff.enrolments.enrolment_view(actor, school_id, child_id, term_id)


@enrolment.post("/enrolments/{term_id}/application", response_model=EnrolmentResponse, summary="家长申请")
def apply(child_id: ChildId, term_id: TermId, body: ApplicationRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.enrolments.apply_for_care(
            command.context(body),
            child_id,
            term_id,
            body.guardian_id,
            body.days,
            body.release_batch,
            body.self_release_requested,
            body.priority,
            body.notes,
        )
    )


@enrolment.post("/enrolments/{term_id}/class-review", response_model=EnrolmentResponse, summary="班级审核")
def class_review(
    child_id: ChildId, term_id: TermId, body: ReviewRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(
        handoff.enrolments.review_by_class(command.context(body), child_id, term_id, body.approved, body.reason)
    )


@enrolment.post("/enrolments/{term_id}/school-review", response_model=EnrolmentResponse, summary="学校复核")
def school_review(
    child_id: ChildId, term_id: TermId, body: ReviewRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(
        handoff.enrolments.review_by_school(command.context(body), child_id, term_id, body.approved, body.reason)
    )


@enrolment.post("/enrolments/{term_id}/arrangement", response_model=EnrolmentResponse, summary="统筹安排")
def arrangement(
    child_id: ChildId, term_id: TermId, body: ArrangementRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(handoff.enrolments.arrange(command.context(body), child_id, term_id, body.temporary_class))


@enrolment.post("/enrolments/{term_id}/agreement", response_model=EnrolmentResponse, summary="安全责任书")
def agreement(
    child_id: ChildId, term_id: TermId, body: AgreementRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(
        handoff.enrolments.sign_agreement(
            command.context(body),
            child_id,
            term_id,
            body.signed_by,
            body.authorised_guardians,
            body.leave_alone_from,
            body.starts_on,
            body.ends_on,
        )
    )


@enrolment.post("/enrolments/{term_id}/withdrawal", response_model=EnrolmentResponse, summary="Withdraw the child")
def withdrawal(
    child_id: ChildId, term_id: TermId, body: WithdrawalRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(handoff.enrolments.withdraw(command.context(body), child_id, term_id, body.reason))
