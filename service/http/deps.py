"""FastAPI dependencies: the application, the authenticated actor and the command context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aggregates.base import DomainError
from aggregates.staff import Role
from projections.registry import READ_MODELS
from service.application.context import Actor, CommandContext
from service.application.handoff import Handoff
from service.application.staff import parse_token
from service.application.text import checked_device_time
from service.http.schemas.common import IDEMPOTENCY_KEY_PATTERN, CommandRequest, Ref
from service.processes.live import ViewWatcher


class NotAuthenticatedError(DomainError):
    """The request has no valid bearer token."""

    status = 401
    code = "not_authenticated"
    message = "Sign in first: this request has no valid staff token."


class InvalidTokenError(NotAuthenticatedError):
    """The token is unknown, revoked or expired."""

    code = "invalid_token"
    message = "Your staff token is not valid (unknown, revoked or expired). Ask the school admin for a new one."


class OtherDeviceError(DomainError):
    """A PIN session acts only from the tablet it was opened on."""

    status = 403
    code = "other_device"
    message = "This sign-in belongs to another tablet. Sign in again on this one."


bearer = HTTPBearer(auto_error=False, description="Staff token issued with `handoff staff issue`")


async def get_handoff(request: Request) -> Handoff:
    """Async, as it does no I/O: a sync dependency is a trip through the thread pool, behind the commands under load."""
    return request.app.state.handoff


HandoffApp = Annotated[Handoff, Depends(get_handoff)]


def current_actor(
    handoff: HandoffApp, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Actor:
    """The staff member whose live token came with the request."""
    if credentials is None:
        raise NotAuthenticatedError
    member = handoff.staff.authenticate(credentials.credentials)
    parsed = parse_token(credentials.credentials)
    if member is None or member.role is None or parsed is None:
        raise InvalidTokenError
    return Actor(
        staff_id=member.staff_id,
        role=Role(member.role),
        scope_id=member.scope_id,
        district_id=member.district_id,
        device_id=member.device_of(parsed[1]),
    )


CurrentActor = Annotated[Actor, Depends(current_actor)]


def current_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """The bearer token itself, for a live stream that must end with it (`current_actor` has checked it)."""
    if credentials is None:
        raise NotAuthenticatedError
    return credentials.credentials


CurrentToken = Annotated[str, Depends(current_token)]
SchoolId = Annotated[Ref, Path(description="The school's code")]
ChildId = Annotated[Ref, Path(description="The child's number on the school roster")]


READ_YOUR_WRITES = "wait-for-views"
READ_YOUR_WRITES_TIMEOUT = 2.0


@dataclass(frozen=True)
class CommandHeaders:
    """Everything about a command except its body."""

    actor: Actor
    school_id: str
    idempotency_key: str
    operation: str
    wait_for_views: bool = False
    handoff: Handoff | None = None
    watcher: ViewWatcher | None = None
    response: Response | None = None

    def done(self, answer: dict[str, Any]) -> dict[str, Any]:
        """With `Prefer: wait-for-views`, answer only once every view shows the command (bounded wait)."""
        if self.wait_for_views and self.handoff is not None and self.response is not None:
            position = self.handoff.recorder.max_notification_id() or 0  # at or after this command's events
            caught_up = self.watcher is not None and self.watcher.wait_for(
                READ_MODELS, position, READ_YOUR_WRITES_TIMEOUT
            )
            self.response.headers["Views-Caught-Up"] = "true" if caught_up else "false"
        return answer

    def context(self, body: CommandRequest) -> CommandContext:
        if self.actor.device_id is not None and body.device_id != self.actor.device_id:
            raise OtherDeviceError
        if self.handoff is not None:
            checked_device_time(body.device_time, self.handoff.clock())
        payload: dict[str, Any] = body.model_dump(mode="json")
        return CommandContext(
            actor=self.actor,
            school_id=self.school_id,
            device_id=body.device_id,
            device_time=body.device_time,
            idempotency_key=self.idempotency_key,
            operation=self.operation,
            body=payload,
        )


def command_headers(
    request: Request,
    response: Response,
    actor: CurrentActor,
    school_id: SchoolId,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN, description="Unique per action; reuse it on retry"
        ),
    ],
    prefer: Annotated[
        str | None, Header(max_length=200, description="`wait-for-views`: answer once the views show it")
    ] = None,
) -> CommandHeaders:
    operation = f"{request.method} {request.url.path}"  # the path itself: a key names one child's request only
    return CommandHeaders(
        actor=actor,
        school_id=school_id,
        idempotency_key=idempotency_key,
        operation=operation,
        wait_for_views=READ_YOUR_WRITES in (prefer or ""),
        handoff=request.app.state.handoff,
        watcher=request.app.state.watcher,
        response=response,
    )


Command = Annotated[CommandHeaders, Depends(command_headers)]
