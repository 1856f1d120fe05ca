"""The FastAPI app: routes, the one central error mapping, health and metrics."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.exceptions import HTTPException
from starlette.routing import Match

from aggregates.base import DomainError
from projections import outbox
from service.application import text
from service.application.handoff import ConcurrentChangeError, Handoff
from service.http.routes.children import children
from service.http.routes.disclosures import disclosures
from service.http.routes.dismissal import dismissal
from service.http.routes.docs import mount_docs
from service.http.routes.emergency import emergency
from service.http.routes.enrolment import enrolment
from service.http.routes.exports import exports
from service.http.routes.guardians import guardians
from service.http.routes.headcounts import headcounts
from service.http.routes.incidents import incidents
from service.http.routes.photos import photos
from service.http.routes.planning import planning
from service.http.routes.province import province
from service.http.routes.replay import replay
from service.http.routes.roster import roster
from service.http.routes.school import school
from service.http.routes.signin import signin
from service.http.routes.ui import mount_ui
from service.http.routes.ui_data import ui_data
from service.http.routes.views import district_views, occupancy_feed, views
from service.http.security import secure, security_headers
from service.http.server import CommandSlots
from service.infra.pools import Connect, server_roles
from service.infra.settings import Settings
from service.processes.live import ViewWatcher
from service.processes.parked import parked
from service.reads.province import Province, ShardCounts
from service.reads.queries import Views
from service.reads.readside import ReadSide
from service.runtime import connection_pools

log = logging.getLogger("handoff.api")


def create_app(
    handoff: Handoff,
    read: ReadSide | None = None,
    watcher: ViewWatcher | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The HTTP API over one Handoff application; the views need PostgreSQL (`read` and `watcher`)."""
    api = FastAPI(
        title="Handoff",
        version="0.1.0",
        description="Custody of children in after-school care (课后服务): check-in, transfer, handoff, release.",
        docs_url=None,
        redoc_url=None,
    )
    api.state.handoff = handoff
    api.state.read = read
    api.state.watcher = watcher
    api.state.views = Views(handoff, read) if read else None
    api.state.live = occupancy_feed(api.state.views, watcher) if watcher and api.state.views else None
    api.state.metrics = metrics_registry(read, connection_pools(handoff, read))
    api.state.province = Province([ShardCounts("default", read)]) if read else None
    api.state.shards = None  # with shards: each shard's application and read side, for /health (service.http.shards)
    api.include_router(children)
    api.include_router(dismissal)
    api.include_router(guardians)
    api.include_router(photos)
    api.include_router(signin)
    api.include_router(enrolment)
    api.include_router(roster)
    api.include_router(school)
    api.include_router(planning)
    api.include_router(emergency)
    api.include_router(incidents)
    api.include_router(headcounts)
    api.include_router(views)
    api.include_router(district_views)
    api.include_router(province)
    api.include_router(replay)
    api.include_router(exports)
    api.include_router(disclosures)
    api.include_router(ui_data)
    mount_ui(api)
    mount_docs(api)
    api.add_exception_handler(DomainError, domain_error)
    api.add_exception_handler(RequestValidationError, validation_error)
    api.add_exception_handler(HTTPException, http_error)
    api.add_exception_handler(Exception, server_error)  # answered outside the middlewares, so it adds the headers
    api.add_api_route("/health", health, methods=["GET"], summary="Liveness, database, and projection lag")
    api.add_api_route("/metrics", metrics, methods=["GET"], summary="Prometheus metrics", include_in_schema=False)
    settings = settings or Settings()
    api.add_middleware(CommandSlots, slots=settings.command_slots)  # innermost: its 503 gets the security headers
    secure(api, settings.allowed_origins)
    return api


def domain_error(_: Request, exc: DomainError) -> JSONResponse:
    """Refusals: a stable code and plain words; for a concurrent change, the current state too."""
    body: dict[str, object] = {"code": exc.code, "message": exc.text}
    if isinstance(exc, ConcurrentChangeError):
        body["current"] = exc.details.get("current")
    if "problems" in exc.details:
        body["problems"] = exc.details["problems"]
    body.update({name: exc.details[name] for name in exc.answered})
    log.info("refused %s (%d)", exc.code, exc.status)
    return JSONResponse(status_code=exc.status, content=body)


def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """Malformed requests: what is wrong, field by field, and nothing is recorded."""
    problems = [
        {"field": ".".join(str(part) for part in error["loc"]), "problem": error["msg"]} for error in exc.errors()
    ]
    fields = ", ".join(p["field"] for p in problems)
    message = f"The request is not valid; check: {fields}."
    content = {"code": "invalid_request", "message": message, "problems": problems}
    refusals = [error for error in exc.errors() if error["type"] in BOUNDARY_CODES]
    if refusals:  # a boundary rule with its own stable code (see service.application.text)
        content |= {"code": refusals[0]["type"], "message": f"{refusals[0]['msg']} ({fields})"}
    return JSONResponse(status_code=422, content=content)


def server_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: the same shape and the same security headers as every other answer, and no detail for the caller."""
    log.error("server error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    body = {"code": "server_error", "message": "Something went wrong on the server. Nothing was recorded; try again."}
    return JSONResponse(status_code=500, content=body, headers=security_headers(request.url.path))


BOUNDARY_CODES = frozenset(
    error.code for error in (text.TextControlCharactersError, text.DateOutOfRangeError, text.DeviceTimeOutOfRangeError)
)
HTTP_ERRORS = {404: "not_found", 405: "method_not_allowed"}


def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """The framework's own refusals (no such path, wrong method, a body that is not JSON text) in the same shape."""
    if exc.status_code == 400:
        body = {"code": "invalid_request", "message": "The request body is not valid JSON in UTF-8."}
        return JSONResponse(status_code=422, content=body)
    body = {"code": HTTP_ERRORS.get(exc.status_code, "http_error"), "message": str(exc.detail)}
    headers = {"Allow": allowed_methods(request)} if exc.status_code == 405 else exc.headers
    return JSONResponse(status_code=exc.status_code, content=body, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method some route takes at this path (the router's 405 names only those of the first route it tried)."""
    routes = request.app.router.routes
    methods = [
        m
        for m in ("GET", "POST", "PUT")
        if any(r.matches({**request.scope, "method": m})[0] is Match.FULL for r in routes)
    ]
    return ", ".join(methods)


def health(request: Request) -> JSONResponse:
    """200 while the event store answers; projection lag (against the store's head) and failing handlers shown.
    With shards: the first shard's as before, each shard's under "shards", and the worst status of them."""
    body = shard_health(request.app.state.handoff, request.app.state.read)
    shards: dict[str, tuple[Handoff, ReadSide | None]] | None = request.app.state.shards
    if shards:
        body["shards"] = {name: shard_health(*shard) for name, shard in shards.items()}
        statuses = {each["status"] for each in body["shards"].values()}
        body["status"] = next(s for s in ("failing", "degraded", "ok") if s in statuses)
    return JSONResponse(body)


def shard_health(handoff: Handoff, read: ReadSide | None) -> dict[str, Any]:
    """One event store's head, and its projections' lag and failures."""
    head = handoff.recorder.max_notification_id() or 0
    projections: dict[str, Any] = read.status() if read else {}
    projections.pop("head", None)
    failing = sorted(name for name, state in projections.items() if state["state"] in ("failing", "stuck"))
    parked_views = sorted(name for name, state in projections.items() if state["parked"])
    status = "failing" if failing else "degraded" if parked_views else "ok"
    body = {"status": status, "head": head, "failing": failing, "parked": parked_views, "projections": projections}
    database = server_roles(connection_pools(handoff, read))  # after a failover, every pool on the new primary
    return body | {"parked_reactions": parked_reactions(read), "database": database}


def parked_reactions(read: ReadSide | None) -> dict[str, Any]:
    """Reactions a policy was refused (e.g. a missing-child incident that could not open): someone must look."""
    count, latest = parked(read) if read else (0, [])
    times = ("first_seen", "last_seen")
    shown = [{**asdict(p), **{t: getattr(p, t).isoformat() for t in times}} for p in latest]
    return {"count": count, "latest": shown}


def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)


class ProjectionCollector:
    """Projection positions and lag, read from the database at scrape time."""

    def __init__(self, read: ReadSide) -> None:
        self.read = read

    def collect(self) -> Any:
        status = self.read.status()
        head = GaugeMetricFamily("handoff_event_log_head", "Position of the newest event in the store")
        head.add_metric([], status.pop("head"))
        lag_events = GaugeMetricFamily("handoff_projection_lag_events", "Events not yet visible", labels=["projection"])
        lag_seconds = GaugeMetricFamily(
            "handoff_projection_lag_seconds", "Age of the oldest event not yet visible", labels=["projection"]
        )
        failing = GaugeMetricFamily("handoff_projection_failing", "1 while a handler fails", labels=["projection"])
        stuck = GaugeMetricFamily(
            "handoff_projection_stuck", "1 while the position stands still with events waiting", labels=["projection"]
        )
        parked_events = GaugeMetricFamily(
            "handoff_projection_parked_events", "Events a handler could never apply, parked", labels=["projection"]
        )
        for name, state in status.items():
            lag_events.add_metric([name], state["lag_events"])
            lag_seconds.add_metric([name], state["lag_seconds"])
            failing.add_metric([name], 1 if state["state"] == "failing" else 0)
            stuck.add_metric([name], 1 if state["state"] == "stuck" else 0)
            parked_events.add_metric([name], state["parked"])
        yield from (head, lag_events, lag_seconds, failing, stuck, parked_events)
        yield self._outbox()
        refused = GaugeMetricFamily("handoff_parked_reactions", "Reactions a policy was refused, kept for review")
        refused.add_metric([], parked(self.read, limit=0)[0])
        yield refused

    def _outbox(self) -> GaugeMetricFamily:
        """Messages to guardians not delivered yet: queued (not tried) and failing (tried, to be tried again)."""
        waiting = GaugeMetricFamily(
            "handoff_outbox_messages", "Messages to guardians not delivered yet", labels=["status"]
        )
        try:
            backlog = self.read.query(outbox.outbox, outbox.backlog)
        except DomainError:  # the outbox view is not built yet
            return waiting
        for status, count in sorted(backlog.items()):
            waiting.add_metric([status], count)
        return waiting


class ServerRoleCollector:
    """The role of the server each connection pool is on, asked at scrape time."""

    def __init__(self, pools: dict[str, Connect]) -> None:
        self.pools = pools

    def collect(self) -> Any:
        primary = GaugeMetricFamily(
            "handoff_database_primary", "1 while the pool is on the primary", labels=["pool", "role", "server"]
        )
        for pool, found in server_roles(self.pools).items():
            primary.add_metric([pool, found["role"] or "", found["server"] or ""], found["role"] == "primary")
        yield primary


def metrics_registry(read: ReadSide | None, pools: dict[str, Connect]) -> CollectorRegistry:
    registry = CollectorRegistry()
    if read is not None:
        registry.register(ProjectionCollector(read))  # type: ignore[arg-type]
    if pools:
        registry.register(ServerRoleCollector(pools))  # type: ignore[arg-type]
    return registry
