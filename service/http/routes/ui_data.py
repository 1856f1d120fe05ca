"""Routes of the small reads behind the gate tablet and the duty leader's board (service/reads/ui.py), with their
response schemas. Names are personal data: only staff of the school see them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi import Request as HttpRequest

from service.http.deps import ChildId, CurrentActor, SchoolId
from service.http.schemas.common import ErrorResponse, Ref
from service.http.schemas.ui_data import (
    AwaitingPickup,
    ChildrenFound,
    ChildSearch,
    ClassRoll,
    DayCards,
    DismissalQueue,
    GateCard,
    OnSiteSeries,
    OpenIncidents,
    SchoolCard,
)
from service.reads.pages import PageReads

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 422, 503)}
ui_data = APIRouter(prefix="/api/v1/schools/{school_id}/ui", responses=ERRORS, tags=["gate and board"])


async def get_ui_reads(request: HttpRequest) -> PageReads:
    """Async, as it does no I/O: one trip through the thread pool fewer for every gate read (see get_handoff)."""
    return PageReads(request.app.state.handoff, request.app.state.read)


Reads = Annotated[PageReads, Depends(get_ui_reads)]
ClassCode = Annotated[Ref, Path(description="The temporary class's place code")]


@ui_data.get("/school", response_model=SchoolCard, summary="The school card: places, time zone, today's mode")
def school_card(school_id: SchoolId, actor: CurrentActor, reads: Reads) -> dict[str, Any]:
    return reads.school_card(actor, school_id)


@ui_data.post("/children/search", response_model=ChildrenFound, summary="Find a child by name, number or class (staff)")
def find_children(school_id: SchoolId, body: ChildSearch, actor: CurrentActor, reads: Reads) -> dict[str, Any]:
    """A read, sent as POST so that a typed name stays out of URLs and access logs; it records nothing."""
    return reads.find_children(actor, school_id, body.q)


@ui_data.get("/children/{child_id}", response_model=GateCard, summary="One child at the gate, with guardians")
def gate_card(school_id: SchoolId, child_id: ChildId, actor: CurrentActor, reads: Reads) -> dict[str, Any]:
    return reads.gate_card(actor, school_id, child_id)


@ui_data.get("/day", response_model=DayCards, summary="Today's children as a gate tablet keeps them (no names)")
def day_cards(school_id: SchoolId, actor: CurrentActor, reads: Reads) -> dict[str, Any]:
    return reads.day_cards(actor, school_id)


@ui_data.get("/awaiting-pickup", response_model=AwaitingPickup, summary="Children still in care, late ones first")
def awaiting_pickup(school_id: SchoolId, actor: CurrentActor, reads: Reads) -> dict[str, Any]:
    return reads.awaiting_pickup(actor, school_id)


@ui_data.get("/on-site", response_model=OnSiteSeries, summary="Children on site over the day")
def on_site(school_id: SchoolId, actor: CurrentActor, reads: Reads) -> dict[str, Any]:
    return reads.on_site_series(actor, school_id)


@ui_data.get("/incidents", response_model=OpenIncidents, summary="Today's open incidents")
def open_incidents(school_id: SchoolId, actor: CurrentActor, reads: Reads) -> dict[str, Any]:
    return reads.open_incidents(actor, school_id)


@ui_data.get("/dismissal", response_model=DismissalQueue, summary="Children whose guardian is at the gate (放学队列)")
def dismissal_queue(school_id: SchoolId, actor: CurrentActor, reads: Reads) -> dict[str, Any]:
    return reads.dismissal_queue(actor, school_id)


@ui_data.get("/classes/{class_code}/roll", response_model=ClassRoll, summary="A temporary class's roll call (点名)")
def class_roll(school_id: SchoolId, class_code: ClassCode, actor: CurrentActor, reads: Reads) -> dict[str, Any]:
    return reads.class_roll(actor, school_id, class_code)
