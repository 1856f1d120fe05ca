"""Emergency mode (应急预案): enter it with a reunification point, leave it, and the live roll of every child on
site (ServiceDay stream, custody streams)."""

from __future__ import annotations

from typing import Any

from aggregates.base import EventMeta
from service.application.area import Area
from service.application.context import Actor, CommandContext


class EmergencyCommands(Area):
    """Emergency mode and the live roll."""

    def enter_emergency(self, ctx: CommandContext, reunification_point: str, reason: str) -> dict[str, Any]:
        """Switch the school into emergency mode for today, with its reunification point."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            school = self.app.school(ctx.school_id)
            school.require_place(reunification_point)
            day = self.app.service_day_state(ctx.school_id, school.service_day(meta.timestamp))
            recorded = day.enter_emergency(meta, reunification_point, reason)
            return recorded, {
                "service_day": day.service_day.isoformat(),
                "emergency": True,
                "reunification_point": reunification_point,
            }

        return self.app.command(ctx, "manage_emergency", decided)

    def leave_emergency(self, ctx: CommandContext, reason: str) -> dict[str, Any]:
        """Leave emergency mode: the normal flow resumes."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            day = self.app.service_day_state(ctx.school_id, self.app.school(ctx.school_id).service_day(meta.timestamp))
            recorded = day.leave_emergency(meta, reason)
            return recorded, {
                "service_day": day.service_day.isoformat(),
                "emergency": False,
                "reunification_point": None,
            }

        return self.app.command(ctx, "manage_emergency", decided)

    def emergency_roll(self, actor: Actor, school_id: str) -> dict[str, Any]:
        """The live roll: every child on site now and who has them, with the school's mode (from the streams)."""
        actor.require("read_occupancy", school_id)
        school = self.app.school(school_id)
        day = school.service_day(self.app.clock())
        mode = self.app.service_day_state(school_id, day)
        on_site = [
            {
                "child_id": s.child_id,
                "custodian_id": s.custodian_id,
                "place_code": s.place_code,
                "guardian_arrived": bool(s.arrived_guardians),
                "confirmed": s.confirmed_guardian_id is not None,
            }
            for s in self.app.in_care(school_id, day)
        ]
        return {
            "service_day": day.isoformat(),
            "emergency": mode.emergency,
            "reunification_point": mode.reunification_point,
            "on_site": on_site,
        }
