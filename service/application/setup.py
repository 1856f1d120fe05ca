"""School set-up commands: register the school, its places, terms, release batches and sessions (School stream)."""

from __future__ import annotations

from datetime import date, time

from aggregates import school
from aggregates.school import School
from service.application.area import Area
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
    ) -> None:
        """Register a school with its district, time zone and the daily end of after-school service."""
        found = self.app.load(school.school_id_for(ctx.school_id), school.project) or School.unregistered(ctx.school_id)
        self.app.save(*found.register(ctx.meta(self.app.clock()), name, district_id, time_zone, service_ends_at))

    def add_place(self, ctx: CommandContext, place_code: str, kind: str, label_zh: str, label_en: str) -> None:
        """Add a temporary class, room or venue to a school."""
        found = self.app.school(ctx.school_id)
        self.app.save(*found.add_place(ctx.meta(self.app.clock()), place_code, kind, label_zh, label_en))

    def schedule_term(self, ctx: CommandContext, term_id: str, starts_on: date, ends_on: date, places: int) -> None:
        """Schedule a term of after-school service and how many children it can take."""
        self.app.save(
            *self.app.school(ctx.school_id).schedule_term(
                ctx.meta(self.app.clock()), term_id, starts_on, ends_on, places
            )
        )

    def add_release_batch(self, ctx: CommandContext, code: str, label_zh: str, label_en: str, ends_at: time) -> None:
        """Add a release batch (弹性离校) and its end time."""
        self.app.save(
            *self.app.school(ctx.school_id).add_batch(ctx.meta(self.app.clock()), code, label_zh, label_en, ends_at)
        )

    def schedule_session(
        self, ctx: CommandContext, season: str, name: str, weekdays: list[str], starts_at: time, ends_at: time
    ) -> None:
        """Schedule a session of the service day for a season (两时段)."""
        sch = self.app.school(ctx.school_id)
        self.app.save(*sch.schedule_session(ctx.meta(self.app.clock()), season, name, weekdays, starts_at, ends_at))
