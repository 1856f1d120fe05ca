"""School set-up commands: register the school, its places, terms, release batches and sessions (School stream)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any

from aggregates import school
from aggregates.base import EventMeta
from aggregates.school import School
from service.application.area import Area, Decided
from service.application.context import CommandContext


class SetupCommands(Area):
    """The school's set-up: places, terms, release batches, sessions."""

    def register_school(
        self,
        ctx: CommandContext,
        name: str,
        district_id: str,
        time_zone: str,
        service_ends_at: time = time(17, 30),
    ) -> dict[str, Any]:
        """Register a school with its district, time zone and the daily end of after-school service."""

        def decide(_: School, meta: EventMeta) -> list[Any]:
            found = self.app.load(school.school_id_for(ctx.school_id), school.project)
            return (found or School.unregistered(ctx.school_id)).register(
                meta, name, district_id, time_zone, service_ends_at
            )

        return self._school_command(ctx, "register_school", decide, {"district_id": district_id}, registered=False)

    def add_place(
        self, ctx: CommandContext, place_code: str, kind: str, label_zh: str, label_en: str
    ) -> dict[str, Any]:
        """Add a temporary class, room or venue to a school."""
        return self._school_command(
            ctx,
            "set_up_school",
            lambda sch, meta: sch.add_place(meta, place_code, kind, label_zh, label_en),
            {"place_code": place_code, "kind": kind},
        )

    def schedule_term(
        self, ctx: CommandContext, term_id: str, starts_on: date, ends_on: date, places: int
    ) -> dict[str, Any]:
        """Schedule a term of after-school service and how many children it can take."""
        return self._school_command(
            ctx,
            "set_up_school",
            lambda sch, meta: sch.schedule_term(meta, term_id, starts_on, ends_on, places),
            {"term_id": term_id, "places": places},
        )

    def add_release_batch(
        self, ctx: CommandContext, code: str, label_zh: str, label_en: str, ends_at: time
    ) -> dict[str, Any]:
        """Add a release batch (弹性离校) and its end time."""
        return self._school_command(
            ctx,
            "set_up_school",
            lambda sch, meta: sch.add_batch(meta, code, label_zh, label_en, ends_at),
            {"batch": code, "ends_at": ends_at.isoformat()},
        )

    def schedule_session(
        self, ctx: CommandContext, season: str, name: str, weekdays: list[str], starts_at: time, ends_at: time
    ) -> dict[str, Any]:
        """Schedule a session of the service day for a season (两时段)."""
        return self._school_command(
            ctx,
            "set_up_school",
            lambda sch, meta: sch.schedule_session(meta, season, name, weekdays, starts_at, ends_at),
            {"season": season, "session": name},
        )

    def _school_command(
        self,
        ctx: CommandContext,
        action: str,
        decide: Callable[[School, EventMeta], list[Any]],
        answer: dict[str, Any],
        registered: bool = True,
    ) -> dict[str, Any]:
        def decided(meta: EventMeta) -> Decided:
            found = self.app.school(ctx.school_id) if registered else School.unregistered(ctx.school_id)
            return decide(found, meta), {"school_id": ctx.school_id, **answer}

        return self.app.command(ctx, action, decided)
