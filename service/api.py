"""The FastAPI app: routes, the one central error mapping, and health."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from aggregates.base import DomainError
from service.app import ConcurrentChangeError, Handoff
from service.routes import child

log = logging.getLogger("handoff.api")


def create_app(handoff: Handoff) -> FastAPI:
    """The HTTP API over one Handoff application."""
    api = FastAPI(
        title="Handoff",
        version="0.1.0",
        description="Custody of children in after-school care (课后服务): check-in, transfer, handoff, release.",
    )
    api.state.handoff = handoff
    api.include_router(child)
    api.add_exception_handler(DomainError, domain_error)
    api.add_exception_handler(RequestValidationError, validation_error)
    api.add_api_route("/health", health, methods=["GET"], summary="Liveness and database reachability")
    return api


def domain_error(_: Request, exc: Exception) -> JSONResponse:
    """Refusals: a stable code and plain words; for a concurrent change, the current state too."""
    assert isinstance(exc, DomainError)  # noqa: S101 - registered for DomainError only
    body: dict[str, object] = {"code": exc.code, "message": exc.text}
    if isinstance(exc, ConcurrentChangeError):
        body["current"] = exc.details.get("current")
    log.info("refused", extra={"code": exc.code, "status": exc.status})
    return JSONResponse(status_code=exc.status, content=body)


def validation_error(_: Request, exc: Exception) -> JSONResponse:
    """Malformed requests: what is wrong, field by field, and nothing is recorded."""
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for RequestValidationError only
    problems = [
        {"field": ".".join(str(part) for part in error["loc"]), "problem": error["msg"]} for error in exc.errors()
    ]
    fields = ", ".join(p["field"] for p in problems)
    return JSONResponse(
        status_code=422,
        content={
            "code": "invalid_request",
            "message": f"The request is not valid; check: {fields}.",
            "problems": problems,
        },
    )


def health(request: Request) -> dict[str, object]:
    handoff: Handoff = request.app.state.handoff
    return {"status": "ok", "last_event": handoff.recorder.max_notification_id() or 0}
