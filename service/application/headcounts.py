"""Headcounts (清点人数) and duty leaders' inspection rounds (值班巡查) at a place: a count against the children in
care there (a missing child opens an incident, by policy), and a round by a duty leader on today's rota."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from aggregates import duty_rounds as duty_rules
from aggregates import headcounts as headcount_rules
from aggregates.base import EventMeta
from aggregates.duty_rounds import DutyRounds, duty_rounds_id
from aggregates.headcounts import Headcounts, headcounts_id
from service.application.area import Area
from service.application.context import CommandContext


class HeadcountCommands(Area):
    """Headcounts and duty rounds at the school's places."""

    def record_headcount(self, ctx: CommandContext, place_code: str, present: Sequence[str]) -> dict[str, Any]:
        """Count the children at a place against those in care there; a missing child opens an incident (policy)."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            school = self.app.school(ctx.school_id)
            school.require_place(place_code)
            self.app.require_people(ctx.school_id, present, [])
            day = school.service_day(meta.timestamp)
            expected = [c.child_id for c in self.app.in_care(ctx.school_id, day) if c.place_code == place_code]
            recorded = self.headcounts(ctx.school_id, day, place_code).record(meta, expected, present)
            counted = recorded[0]
            return recorded, {
                "place_code": place_code,
                "service_day": day.isoformat(),
                "expected": counted.expected,
                "missing": counted.missing,
                "extra": counted.extra,
            }

        return self.app.command(ctx, "record_headcount", decided)

    def record_duty_round(self, ctx: CommandContext, place_code: str, findings: str, all_well: bool) -> dict[str, Any]:
        """A duty leader on today's rota records the inspection of a place and what they found."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            school = self.app.school(ctx.school_id)
            school.require_place(place_code)
            day = school.service_day(meta.timestamp)
            rota = self.app.service_day_state(ctx.school_id, day).duty_leaders
            rounds = self.app.load(duty_rounds_id(ctx.school_id, day), duty_rules.project) or DutyRounds.of(
                ctx.school_id, day
            )
            recorded = rounds.record(meta, place_code, findings, all_well, rota)
            inspected = [*rounds.inspected, place_code]
            return recorded, {"service_day": day.isoformat(), "inspected": inspected}

        return self.app.command(ctx, "record_duty_round", decided)

    def headcounts(self, school_id: str, day: date, place_code: str) -> Headcounts:
        found = self.app.load(headcounts_id(school_id, day, place_code), headcount_rules.project)
        return found or Headcounts.at(school_id, day, place_code)
