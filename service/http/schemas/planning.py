"""API schemas of planning: forming temporary classes (临时班), moving a child, opening the service day."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from service.http.schemas.common import CommandRequest, Ref


class FormClassesRequest(CommandRequest):
    teachers: Annotated[list[Ref], Field(min_length=1, max_length=100)]
    venues: Annotated[list[Ref], Field(min_length=1, max_length=100)]


class MoveChildRequest(CommandRequest):
    child_id: Ref


class DayOpeningRequest(CommandRequest):
    duty_leaders: Annotated[list[Ref], Field(min_length=2, max_length=2)]
    guards: Annotated[list[Ref], Field(min_length=2, max_length=2)]
