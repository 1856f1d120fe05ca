"""Routes for enrolment, guardians' flags, erasure, temporary classes, the service day and the coverage report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request

from service.http.deps import ChildId, Command, CurrentActor, HandoffApp, SchoolId
from service.http.schemas.common import (
    AgreementRequest,
    ApplicationRequest,
    ArrangementRequest,
    ChildCardResponse,
    CommandRequest,
    DayOpeningRequest,
    EmergencyRequest,
    EnrolmentResponse,
    ErrorResponse,
    FlagRequest,
    FormClassesRequest,
    GuardianRevocationRequest,
    GuardiansResponse,
    IsoDate,
    MoveChildRequest,
    PlainAnswer,
    Ref,
    ReviewRequest,
    RosterUpload,
    WithdrawalRequest,
)

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 410, 422)}
TermId = Annotated[Ref, Path(description="The term, e.g. 2026-autumn")]
enrolment = APIRouter(prefix="/api/v1/schools/{school_id}/children/{child_id}", responses=ERRORS)
planning = APIRouter(prefix="/api/v1/schools/{school_id}", responses=ERRORS)


@enrolment.get("", response_model=ChildCardResponse, summary="The child's roster entry (名册), name for school staff")
def child_card(school_id: SchoolId, child_id: ChildId, actor: CurrentActor, handoff: HandoffApp) -> dict[str, Any]:
    return handoff.child_card(actor, school_id, child_id)


@enrolment.get("/enrolments/{term_id}", response_model=EnrolmentResponse, summary="Where the enrolment stands")
def enrolment_view(
    school_id: SchoolId, child_id: ChildId, term_id: TermId, actor: CurrentActor, handoff: HandoffApp
) -> dict[str, Any]:
    return handoff.enrolment_view(actor, school_id, child_id, term_id)


@enrolment.post("/enrolments/{term_id}/application", response_model=EnrolmentResponse, summary="家长申请")
def apply(child_id: ChildId, term_id: TermId, body: ApplicationRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.apply_for_care(
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
    return command.done(handoff.review_by_class(command.context(body), child_id, term_id, body.approved, body.reason))


@enrolment.post("/enrolments/{term_id}/school-review", response_model=EnrolmentResponse, summary="学校复核")
def school_review(
    child_id: ChildId, term_id: TermId, body: ReviewRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(handoff.review_by_school(command.context(body), child_id, term_id, body.approved, body.reason))


@enrolment.post("/enrolments/{term_id}/arrangement", response_model=EnrolmentResponse, summary="统筹安排")
def arrangement(
    child_id: ChildId, term_id: TermId, body: ArrangementRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(handoff.arrange(command.context(body), child_id, term_id, body.temporary_class))


@enrolment.post("/enrolments/{term_id}/agreement", response_model=EnrolmentResponse, summary="安全责任书")
def agreement(
    child_id: ChildId, term_id: TermId, body: AgreementRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(
        handoff.sign_agreement(
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
    return command.done(handoff.withdraw(command.context(body), child_id, term_id, body.reason))


@enrolment.post("/flags", response_model=GuardiansResponse, summary="Flag a person who must never collect the child")
def flag(child_id: ChildId, body: FlagRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.flag_person(command.context(body), child_id, body.person_id, body.reason, body.name))


@enrolment.post("/flags/{person_id}/lift", response_model=GuardiansResponse, summary="Lift a flag")
def lift_flag(
    child_id: ChildId,
    person_id: Annotated[Ref, Path()],
    body: GuardianRevocationRequest,
    command: Command,
    handoff: HandoffApp,
) -> dict:
    return command.done(handoff.lift_flag(command.context(body), child_id, person_id, body.reason))


@enrolment.post("/erasure", response_model=PlainAnswer, summary="Erase the child's personal data (PIPL)")
def erasure(child_id: ChildId, body: WithdrawalRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.erase_child(command.context(body), child_id, body.reason))


@planning.post("/terms/{term_id}/classes", response_model=PlainAnswer, summary="Form the temporary classes (临时班)")
def form_classes(term_id: TermId, body: FormClassesRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.form_classes(command.context(body), term_id, body.teachers, body.venues))


@planning.post("/terms/{term_id}/classes/{class_code}/children", response_model=PlainAnswer, summary="Move a child")
def move_child(
    term_id: TermId,
    class_code: Annotated[Ref, Path()],
    body: MoveChildRequest,
    command: Command,
    handoff: HandoffApp,
) -> dict:
    return command.done(handoff.move_child(command.context(body), term_id, body.child_id, class_code))


@planning.get("/terms/{term_id}/coverage", response_model=dict[str, Any], summary="Coverage report (愿留尽留)")
def coverage(school_id: SchoolId, term_id: TermId, actor: CurrentActor, handoff: HandoffApp) -> dict[str, Any]:
    return handoff.coverage_report(actor, school_id, term_id)


@planning.post("/days/{day}/opening", response_model=PlainAnswer, summary="Open the service day with its duty rota")
def open_day(day: Annotated[IsoDate, Path()], body: DayOpeningRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.open_day(command.context(body), day, body.duty_leaders, body.guards))


@planning.post("/days/{day}/closing", response_model=PlainAnswer, summary="Close the service day")
def close_day(day: Annotated[IsoDate, Path()], body: CommandRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.close_day(command.context(body), day))


async def uploaded(request: Request) -> bytes:
    """The raw request body (routes stay sync; only reading the body is async)."""
    return await request.body()


ROSTER_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@planning.post(
    "/roster",
    response_model=PlainAnswer,
    summary="Import the roster (名册): simple CSV or zipped OneRoster 1.1",
    openapi_extra=ROSTER_BODY,
)
def import_roster(
    school_id: SchoolId,
    data: Annotated[bytes, Depends(uploaded)],
    device: Annotated[RosterUpload, Depends()],
    command: Command,
    handoff: HandoffApp,
    content_type: Annotated[str, Header(max_length=200)] = "",
) -> dict:
    return command.done(handoff.import_uploaded_roster(command.context(device.with_file(data)), data, content_type))


@planning.post("/emergency", response_model=PlainAnswer, summary="Enter emergency mode (应急预案), duty leader")
def enter_emergency(body: EmergencyRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.enter_emergency(command.context(body), body.reunification_point, body.reason))


@planning.post("/emergency/end", response_model=PlainAnswer, summary="Leave emergency mode, duty leader")
def leave_emergency(body: WithdrawalRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.leave_emergency(command.context(body), body.reason))


@planning.get("/emergency/roll", response_model=dict[str, Any], summary="Live roll: every child on site and custodian")
def emergency_roll(school_id: SchoolId, actor: CurrentActor, handoff: HandoffApp) -> dict[str, Any]:
    return handoff.emergency_roll(actor, school_id)
