"""Read routes over the live views, the live stream, and health and metrics."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.encoders import jsonable_encoder

from projections import attendance, audit, outbox, supervision
from service.http.deps import CurrentActor, CurrentToken, HandoffApp, InvalidTokenError, SchoolId
from service.http.event_stream import EventStreamResponse, server_stopping
from service.http.schemas.common import ErrorResponse, IsoDate, Ref
from service.http.schemas.views import (
    DistrictSummaryResponse,
    OccupancyChildrenResponse,
    OccupancyResponse,
    RowsResponse,
)
from service.processes.live import ViewWatcher
from service.processes.live_feed import LiveFeed, frame
from service.reads.queries import Views
from service.reads.readside import ViewsNotReadyError

ERRORS = {s: {"model": ErrorResponse} for s in (401, 403, 404, 422, 503)}
views = APIRouter(prefix="/api/v1/schools/{school_id}", responses=ERRORS)
district_views = APIRouter(prefix="/api/v1/districts/{district_id}", responses=ERRORS)

Day = Annotated[
    IsoDate | None, Query(description="Service day, YYYY-MM-DD; today in the school's time zone if omitted")
]
Limit = Annotated[int, Query(ge=1, le=500)]
OptionalRef = Annotated[Ref | None, Query()]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
MessageId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")]


@dataclass
class Page:
    """Which rows of a long listing: at most `limit`, after skipping `offset`."""

    limit: Limit = 100
    offset: Offset = 0


Paged = Annotated[Page, Depends()]


def get_views(request: Request) -> Views:
    found: Views | None = request.app.state.views
    if found is None:
        raise ViewsNotReadyError
    return found


def get_live(request: Request) -> LiveFeed:
    found: LiveFeed | None = request.app.state.live
    if found is None:
        raise ViewsNotReadyError
    return found


ViewsDep = Annotated[Views, Depends(get_views)]
LiveDep = Annotated[LiveFeed, Depends(get_live)]
TOKEN_ENDED = {"code": InvalidTokenError.code, "message": InvalidTokenError.message}
TOKEN_CLOSED = frame("closed", json.dumps(TOKEN_ENDED))
"""The last event of a stream whose token was revoked or expired."""


@views.get("/occupancy", response_model=OccupancyResponse, summary="Live occupancy by place (在园情况)")
def occupancy(school_id: SchoolId, actor: CurrentActor, read: ViewsDep, day: Day = None) -> dict[str, Any]:
    return read.occupancy(actor, school_id, day)


@views.get("/occupancy/children", response_model=OccupancyChildrenResponse, summary="Children on site, filtered")
def occupancy_children(
    school_id: SchoolId,
    actor: CurrentActor,
    read: ViewsDep,
    page: Paged,
    day: Day = None,
    place: Annotated[Ref | None, Query()] = None,
    status: Annotated[Literal["in_care", "released", "absent"] | None, Query()] = None,
    child: Annotated[Ref | None, Query()] = None,
    waiting_for_pickup: Annotated[bool, Query(description="Only children whose guardian is at the gate")] = False,
) -> dict[str, Any]:
    filters = {"place": place, "status": status, "child": child, "waiting_for_pickup": waiting_for_pickup}
    return read.occupancy_children(actor, school_id, day, filters, page.limit, page.offset)


@views.get("/children/{child_id}/timeline", response_model=RowsResponse, summary="A child's day, from the views")
def child_timeline(
    school_id: SchoolId, child_id: Annotated[Ref, Path()], actor: CurrentActor, read: ViewsDep, day: Day = None
) -> dict[str, Any]:
    return read.child_timeline(actor, school_id, child_id, day)


@views.get("/audit", response_model=RowsResponse, summary="Safety audit trail: every change of custody")
def audit_trail(
    school_id: SchoolId, actor: CurrentActor, read: ViewsDep, page: Paged, day: Day = None, child: OptionalRef = None
) -> dict[str, Any]:
    custody_changes = audit.audit, audit.custody_changes
    return read.rows(actor, "read_records", school_id, *custody_changes, day, child=child, **asdict(page))


@views.get("/attendance", response_model=RowsResponse, summary="Daily attendance (考勤) per child")
def attendance_by_child(
    school_id: SchoolId,
    actor: CurrentActor,
    read: ViewsDep,
    page: Paged,
    day: Day = None,
    place: OptionalRef = None,
    child: OptionalRef = None,
) -> dict[str, Any]:
    by_child = attendance.attendance, attendance.by_child
    return read.rows(actor, "read_records", school_id, *by_child, day, place=place, child=child, **asdict(page))


@views.get("/attendance/classes", response_model=RowsResponse, summary="Attendance per temporary class")
def attendance_by_class(school_id: SchoolId, actor: CurrentActor, read: ViewsDep, day: Day = None) -> dict[str, Any]:
    return read.rows(actor, "read_records", school_id, attendance.attendance, attendance.by_class, day)


@views.get("/attendance/home-classes", response_model=RowsResponse, summary="Attendance per home class (原班级)")
def attendance_by_home_class(
    school_id: SchoolId, actor: CurrentActor, read: ViewsDep, day: Day = None
) -> dict[str, Any]:
    return read.rows(actor, "read_records", school_id, attendance.attendance, attendance.by_home_class, day)


@views.get("/supervision", response_model=RowsResponse, summary="Supervision record (看管记录) per staff and place")
def supervision_by_staff(
    school_id: SchoolId,
    actor: CurrentActor,
    read: ViewsDep,
    day: Day = None,
    staff: OptionalRef = None,
    place: OptionalRef = None,
) -> dict[str, Any]:
    return read.rows(
        actor, "read_records", school_id, supervision.supervision, supervision.by_staff, day, staff=staff, place=place
    )


@views.get("/supervision/entries", response_model=RowsResponse, summary="Supervision record entries")
def supervision_entries(
    school_id: SchoolId, actor: CurrentActor, read: ViewsDep, page: Paged, day: Day = None, staff: OptionalRef = None
) -> dict[str, Any]:
    entries = supervision.supervision, supervision.entries
    return read.rows(actor, "read_records", school_id, *entries, day, staff=staff, **asdict(page))


@views.get("/messages", response_model=RowsResponse, summary="Messages to guardians (家长通知) and their delivery")
def messages(
    school_id: SchoolId,
    actor: CurrentActor,
    read: ViewsDep,
    day: Day = None,
    status: Annotated[Literal["queued", "failing", "delivered"] | None, Query()] = None,
) -> dict[str, Any]:
    return read.rows(actor, "read_messages", school_id, outbox.outbox, outbox.listing, day, status=status)


@views.get("/messages/{message_id}", response_model=dict[str, Any], summary="One message: tries, last error, wording")
def message(school_id: SchoolId, message_id: MessageId, actor: CurrentActor, handoff: HandoffApp) -> dict[str, Any]:
    return handoff.outbox.message_view(actor, school_id, message_id)


@district_views.get("/summary", response_model=DistrictSummaryResponse, summary="District summary (督导)")
def district_summary(
    district_id: Annotated[Ref, Path()],
    actor: CurrentActor,
    read: ViewsDep,
    day_from: Annotated[IsoDate, Query(alias="from")],
    day_to: Annotated[IsoDate, Query(alias="to")],
    school: OptionalRef = None,
) -> dict[str, Any]:
    return read.district_summary(actor, district_id, day_from, day_to, school)


@views.get("/live", summary="Server-sent events: the occupancy of the school whenever it changes")
def live(
    school_id: SchoolId,
    actor: CurrentActor,
    token: CurrentToken,
    handoff: HandoffApp,
    read: ViewsDep,
    feed: LiveDep,
    day: Day = None,
) -> Any:
    read.occupancy(actor, school_id, day)
    return EventStreamResponse(
        lambda: feed.join(school_id, day, token, lambda t: handoff.staff.authenticate(t) is not None, TOKEN_CLOSED)
    )


def occupancy_feed(read: Views, watcher: ViewWatcher) -> LiveFeed:
    """The live streams of occupancy: each school's snapshot is encoded as JSON text once per change."""
    return LiveFeed(
        watcher,
        "occupancy",
        lambda school_id, day: json.dumps(
            jsonable_encoder(read.occupancy_snapshot(school_id, day)), ensure_ascii=False
        ),
        server_stopping,
    )
