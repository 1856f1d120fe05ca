"""Planning commands: the term's temporary classes formed by the schools' rule, moves by hand (at most 40 a
class), the service day's opening with its duty rota and its closing, and the coverage report (愿留尽留)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import reduce
from typing import Any

from aggregates import school as school_rules
from aggregates.base import EventMeta, InvalidCommandError
from aggregates.class_forming import Applicant, ClassFormingError, form_temporary_classes
from aggregates.enrolment import Stage
from aggregates.temporary_class import plan_classes
from service.application.area import Area
from service.application.context import Actor, CommandContext
from service.application.text import checked_day


class PlanningCommands(Area):
    """Temporary classes, the service day's opening and closing, and the coverage report."""

    def form_classes(
        self, ctx: CommandContext, term_id: str, teachers: Sequence[str], venues: Sequence[str]
    ) -> dict[str, Any]:
        """Form the term's temporary classes from the approved children by the schools' rule, and arrange them."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            school = self.app.school(ctx.school_id)
            school.require_term(term_id)
            for venue in venues:
                school.require_place(venue)
            recorded: list[Any] = []
            planned = plan_classes(self._formed(ctx.school_id, term_id), teachers, venues)
            for plan in planned:
                if plan.code not in school.places:
                    added = school.add_place(meta, plan.code, "temporary_class", plan.label_zh, plan.label_en)
                    school = reduce(school_rules.evolve, added, school)
                    recorded += added
                self.app.staff_member(ctx.school_id, plan.teacher_id).require_custodian()
                cls = self.app.temporary_class(ctx.school_id, term_id, plan.code)
                recorded += cls.form(meta, plan.teacher_id, plan.venue, plan.formed.children, plan.formed.how)
                for child_id in plan.formed.children:
                    recorded += self.app.enrolment(ctx.school_id, child_id, term_id).arrange(meta, plan.code)
            return recorded, {"term_id": term_id, "classes": [_class_view(plan.code, plan.formed) for plan in planned]}

        return self.app.command(ctx, "arrange", decided)

    def _formed(self, school_id: str, term_id: str) -> list[Any]:
        applicants = []
        for child_id in sorted(self.app.term_applicants(school_id, term_id).placed):
            if self.app.enrolment(school_id, child_id, term_id).stage is Stage.WITHDRAWN:
                continue
            entry = self.app.roster_entry(school_id, child_id)
            applicants.append(Applicant(child_id, entry.home_class, entry.grade))
        try:
            return form_temporary_classes(applicants)
        except ClassFormingError as error:
            raise InvalidCommandError(str(error)) from None

    def move_child(self, ctx: CommandContext, term_id: str, child_id: str, to_class: str) -> dict[str, Any]:
        """Move a child by hand into another temporary class of the term; a class never exceeds 40."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            enrolment = self.app.enrolment(ctx.school_id, child_id, term_id)
            recorded: list[Any] = []
            if enrolment.temporary_class:
                recorded += self.app.temporary_class(ctx.school_id, term_id, enrolment.temporary_class).move_out(
                    meta, child_id
                )
            recorded += self.app.temporary_class(ctx.school_id, term_id, to_class).move_in(meta, child_id)
            recorded += enrolment.arrange(meta, to_class)
            return recorded, {"child_id": child_id, "term_id": term_id, "temporary_class": to_class}

        return self.app.command(ctx, "arrange", decided)

    def open_day(
        self, ctx: CommandContext, day: date, duty_leaders: Sequence[str], guards: Sequence[str]
    ) -> dict[str, Any]:
        """Open a service day with its rota: two duty leaders and two guards."""
        checked_day(day)

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            roles = {
                staff_id: self.app.staff_member(ctx.school_id, staff_id).role for staff_id in {*duty_leaders, *guards}
            }
            recorded = self.app.service_day_state(ctx.school_id, day).open(meta, duty_leaders, guards, roles)
            return recorded, {"service_day": day.isoformat(), "state": "open"}

        return self.app.command(ctx, "plan_day", decided)

    def close_day(self, ctx: CommandContext, day: date) -> dict[str, Any]:
        """Close a service day; refused, naming the children, while any child who came is still in care and not
        named in an open incident of that day (a missing child, a guardian who never came: the incident goes on)."""
        checked_day(day)

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            covered = self.app.incidents.children_in_open_incidents(ctx.school_id, day)
            in_care = [state.child_id for state in self.app.in_care(ctx.school_id, day)]
            recorded = self.app.service_day_state(ctx.school_id, day).close(meta, in_care, covered)
            still_open = {child_id: covered[child_id] for child_id in in_care}
            return recorded, {"service_day": day.isoformat(), "state": "closed", "in_open_incidents": still_open}

        return self.app.command(ctx, "plan_day", decided)

    def coverage_report(self, actor: Actor, school_id: str, term_id: str) -> dict[str, Any]:
        """Applications against children served (愿留尽留), and whether priority children came first."""
        actor.require("read_coverage", school_id)
        term = self.app.school(school_id).require_term(term_id)
        stages: dict[str, int] = {}
        priority = {"applied": 0, "approved": 0, "not_approved": 0}
        others = dict(priority)
        for child_id in self.app.term_applicants(school_id, term_id).applicants:
            enrolment = self.app.enrolment(school_id, child_id, term_id)
            stages[enrolment.stage.value] = stages.get(enrolment.stage.value, 0) + 1
            opened = self.app.personal.open(school_id, child_id, enrolment.sealed) if enrolment.sealed else None
            bucket = priority if opened and opened.get("priority") else others
            bucket["applied"] += 1
            bucket["approved" if enrolment.approved else "not_approved"] += 1
        places_short = stages.get("school_rejected", 0) > 0 or priority["applied"] + others["applied"] > term.places
        return {
            "term_id": term_id,
            "places": term.places,
            "applications": sum(stages.values()),
            "by_stage": stages,
            "priority_children": priority,
            "other_children": others,
            "everyone_who_applied_is_served": stages.get("class_rejected", 0) + stages.get("school_rejected", 0) == 0,
            "priority_first": not (priority["not_approved"] and others["approved"] and places_short),
        }


def _class_view(code: str, group: Any) -> dict[str, Any]:
    return {
        "class_code": code,
        "grades": list(group.grades),
        "home_classes": list(group.home_classes),
        "children": len(group.children),
        "how": group.how,
    }
