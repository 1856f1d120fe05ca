"""Routes of planning: form the temporary classes (临时班), move a child, the coverage report, open and close
the service day."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from service.http.deps import Command, CurrentActor, HandoffApp, SchoolId
from service.http.schemas.common import CommandRequest, ErrorResponse, IsoDate, PlainAnswer, Ref
from service.http.schemas.planning import DayOpeningRequest, FormClassesRequest, MoveChildRequest

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 410, 422)}
TermId = Annotated[Ref, Path(description="The term, e.g. 2026-autumn")]
planning = APIRouter(prefix="/api/v1/schools/{school_id}", responses=ERRORS)


@planning.post("/terms/{term_id}/classes", response_model=PlainAnswer, summary="Form the temporary classes (临时班)")
def form_classes(term_id: TermId, body: FormClassesRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.planning.form_classes(command.context(body), term_id, body.teachers, body.venues))


@planning.post("/terms/{term_id}/classes/{class_code}/children", response_model=PlainAnswer, summary="Move a child")
def move_child(
    term_id: TermId,
    class_code: Annotated[Ref, Path()],
    body: MoveChildRequest,
    command: Command,
    handoff: HandoffApp,
) -> dict:
    return command.done(handoff.planning.move_child(command.context(body), term_id, body.child_id, class_code))


@planning.get("/terms/{term_id}/coverage", response_model=dict[str, Any], summary="Coverage report (愿留尽留)")
def coverage(school_id: SchoolId, term_id: TermId, actor: CurrentActor, handoff: HandoffApp) -> dict[str, Any]:
    return handoff.planning.coverage_report(actor, school_id, term_id)


@planning.post("/days/{day}/opening", response_model=PlainAnswer, summary="Open the service day with its duty rota")
def open_day(day: Annotated[IsoDate, Path()], body: DayOpeningRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.planning.open_day(command.context(body), day, body.duty_leaders, body.guards))


@planning.post("/days/{day}/closing", response_model=PlainAnswer, summary="Close the service day")
def close_day(day: Annotated[IsoDate, Path()], body: CommandRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.planning.close_day(command.context(body), day))
