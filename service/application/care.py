"""Custody commands on a child's service day: check-in, transfer, guardian arrival, mutual confirmation, release,
absence, correction, the pickup-code unlock; and the day's record. Each loads the school, the roster entry and the
child's custody stream, lets the custody aggregate decide, and answers with the custody after it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import reduce
from typing import Any

from aggregates import custody
from aggregates.base import EventMeta
from aggregates.custody import REFUSAL_MESSAGES, Custody
from aggregates.gate_guard import HELD_BACK_MESSAGES
from aggregates.school import School
from aggregates.staff import Role
from events.custody import CustodyEvent, ReleaseRefused, Status
from events.gate_guard import GateAttemptHeldBack, GateLimitReached
from replay.state import entry as event_view
from service.application.area import Area, Decided
from service.application.context import Actor, CommandContext
from service.application.views import custody_view

Decision = Callable[[Custody, EventMeta, School], list[CustodyEvent]]


class CareCommands(Area):
    """A child's custody day, with what a release needs from the guardian list and the service day."""

    def check_in(
        self, ctx: CommandContext, child_id: str, place_code: str, custodian_id: str | None, handed_over_by: str | None
    ) -> dict[str, Any]:
        """Take a child into after-school care, with a named adult at a named place."""
        keeper = custodian_id or ctx.actor.staff_id

        def decide(state: Custody, meta: EventMeta, sch: School) -> list[CustodyEvent]:
            sch.require_place(place_code)
            self.app.staff_member(ctx.school_id, keeper).require_custodian()
            if state.status is not Status.IN_CARE:  # as the expected list and the roll call decide it
                self.app.roster_entry(ctx.school_id, child_id).require_in_records_on(state.service_day)
            enrolment = self.app.enrolment(ctx.school_id, child_id, sch.term_on(state.service_day).term_id)
            guardians = self.app.guardians(ctx.school_id, child_id)
            closed = self.app.service_day_state(ctx.school_id, state.service_day).state == "closed"
            return state.check_in(meta, keeper, place_code, handed_over_by, guardians, enrolment, closed)

        return self._custody_command(ctx, "check_in", child_id, decide)

    def transfer(self, ctx: CommandContext, child_id: str, to_custodian_id: str, to_place_code: str) -> dict[str, Any]:
        """Hand a child on to another named adult and place."""

        def decide(state: Custody, meta: EventMeta, sch: School) -> list[CustodyEvent]:
            sch.require_place(to_place_code)
            self.app.staff_member(ctx.school_id, to_custodian_id).require_custodian()
            return state.transfer(meta, to_custodian_id, to_place_code)

        return self._custody_command(ctx, "transfer", child_id, decide)

    def register_arrival(
        self, ctx: CommandContext, child_id: str, guardian_id: str, verification: str, pickup_code: str | None
    ) -> dict[str, Any]:
        """Check an arriving guardian against the authorised list and their pickup code."""
        code_hash = (
            self.app.pickup_code_hash(ctx.school_id, child_id, guardian_id, pickup_code) if pickup_code else None
        )

        def decide(state: Custody, meta: EventMeta, _: School) -> list[Any]:
            found = self.app.guardians(ctx.school_id, child_id)
            guard = self.app.gate_guard(ctx.school_id, state.service_day)
            unknown = not found.is_authorised(guardian_id, state.service_day)
            what = "unknown_person" if unknown else verification
            if not found.is_flagged(guardian_id):  # a flagged person is always refused as such, and alerts
                held = guard.check(meta, what, child_id, guardian_id)
                if not held and what == "pickup_code" and state.code_entry_locked:
                    held = guard.hold_back(meta, child_id, guardian_id, "pickup_code_locked")
                if held:
                    return held
            recorded: list[Any] = state.register_arrival(meta, guardian_id, found, verification, code_hash)
            failed = {e.reason_code for e in recorded if isinstance(e, ReleaseRefused)}
            if failed & {"pickup_code_wrong", "guardian_not_authorised"}:
                counted = guard.count(meta, what, child_id, guardian_id)
                reached.extend(e for e in counted if isinstance(e, GateLimitReached))
                recorded += counted
            return recorded

        reached: list[GateLimitReached] = []
        answer = self._custody_command(ctx, "register_arrival", child_id, decide)
        for limit in reached:
            self.gate_limit_incident(ctx, child_id, limit)
        return answer

    def gate_limit_incident(self, ctx: CommandContext, child_id: str | None, limit: GateLimitReached) -> None:
        """A limit of failed pickup checks opens one unauthorised-pickup incident (its id derives from the limit);
        a code alone names no child."""
        key = f"gate-limit-{limit.originator_id.hex}-{limit.originator_version}"
        actor = Actor("gate-guard", Role.ADMIN, ctx.school_id, ctx.actor.district_id)
        opened = CommandContext(actor, ctx.school_id, ctx.device_id, ctx.device_time, key, "gate-guard", {"key": key})
        where = f"device {limit.limited_device_id}" if limit.scope == "device" else "the whole school"
        summary = f"{limit.count} failed pickup checks ({limit.what}) today from {where}: further ones are held back"
        children = [child_id] if child_id else []
        self.app.incidents.open_incident(
            opened, "unauthorised_pickup_attempt", children, [ctx.actor.staff_id], summary, key, key
        )

    def confirm(
        self,
        ctx: CommandContext,
        child_id: str,
        guardian_id: str,
        guardian_recognised_child: bool,
        child_recognised_guardian: bool,
    ) -> dict[str, Any]:
        """Record the mutual confirmation of guardian and child, witnessed by the acting teacher."""

        def decide(state: Custody, meta: EventMeta, _: School) -> list[CustodyEvent]:
            found = self.app.guardians(ctx.school_id, child_id)
            return state.confirm(meta, guardian_id, guardian_recognised_child, child_recognised_guardian, found)

        return self._custody_command(ctx, "confirm", child_id, decide)

    def release(self, ctx: CommandContext, child_id: str, guardian_id: str | None) -> dict[str, Any]:
        """Release a child to the confirmed guardian, or alone where the agreement allows it (guardian_id None)."""

        def decide(state: Custody, meta: EventMeta, sch: School) -> list[CustodyEvent]:
            found = self.app.guardians(ctx.school_id, child_id)
            emergency = self.app.service_day_state(ctx.school_id, state.service_day).emergency
            if guardian_id is None:
                return state.release_alone(meta, found, sch.local_now(meta.timestamp).time(), emergency)
            return state.release(meta, guardian_id, found, emergency)

        return self._custody_command(ctx, "release", child_id, decide)

    def unlock_code_entry(self, ctx: CommandContext, child_id: str, reason: str) -> dict[str, Any]:
        """A duty leader lifts the pickup-code lock of a child for today."""
        return self._custody_command(
            ctx, "unlock_code_entry", child_id, lambda state, meta, _: state.unlock_code_entry(meta, reason)
        )

    def review_mismatch(self, ctx: CommandContext, child_id: str, guardian_id: str, reason: str) -> dict[str, Any]:
        """A duty leader reviews a failed mutual confirmation, so that the guardian may confirm again."""
        return self._custody_command(
            ctx, "review_mismatch", child_id, lambda state, meta, _: state.review_mismatch(meta, guardian_id, reason)
        )

    def mark_absent(self, ctx: CommandContext, child_id: str, reason: str) -> dict[str, Any]:
        """Record that a child expected in care is not there today."""
        return self._custody_command(
            ctx, "mark_absent", child_id, lambda state, meta, _: state.mark_absent(meta, reason)
        )

    def correct(self, ctx: CommandContext, child_id: str, day: date, reason: str) -> dict[str, Any]:
        """Correct the latest record of a child's day by a compensating event; the original stays in the log."""

        def decided(meta: EventMeta) -> Decided:
            self.app.roster_entry(ctx.school_id, child_id)
            state = self.app.custody(ctx.school_id, child_id, day)
            latest = self.app.stored(state.id, CustodyEvent, desc=True, limit=1)
            if not latest:
                raise custody.NothingToCorrectError
            before = self._custody_at(ctx.school_id, child_id, day, state.version - 1)
            recorded = state.correct(meta, latest[0], reason, before)
            return recorded, command_response(reduce(custody.evolve, recorded, state), recorded)

        return self.app.command(ctx, "correct", decided)

    def child_day(self, actor: Actor, school_id: str, child_id: str, day: date) -> dict[str, Any]:
        """A child's status, current custodian and history on one service day."""
        actor.require("read_child_day", school_id)
        self.app.school(school_id)
        self.app.roster_entry(school_id, child_id)
        state = self.app.custody(school_id, child_id, day)
        history = self.app.stored(state.id, CustodyEvent)
        return {"custody": custody_view(state), "history": [event_view(e) for e in history]}

    def _custody_command(self, ctx: CommandContext, action: str, child_id: str, decide: Decision) -> dict[str, Any]:
        def decided(meta: EventMeta) -> Decided:
            sch = self.app.school(ctx.school_id)
            self.app.roster_entry(ctx.school_id, child_id)
            state = self.app.custody(ctx.school_id, child_id, sch.service_day(meta.timestamp))
            recorded = decide(state, meta, sch)
            own = [e for e in recorded if isinstance(e, CustodyEvent)]
            return recorded, command_response(reduce(custody.evolve, own, state), recorded)

        def reread() -> Custody:
            return self.app.custody(
                ctx.school_id, child_id, self.app.school(ctx.school_id).service_day(self.app.clock())
            )

        return self.app.command(ctx, action, decided, reread)

    def _custody_at(self, school_id: str, child_id: str, day: date, version: int) -> Custody:
        if version < 1:
            return Custody.expected(school_id, child_id, day)
        stream = custody.custody_id(school_id, child_id, day)
        return self.app.repository.get(stream, version=version, projector_func=custody.project)


def command_response(state: Custody, recorded: Sequence[Any]) -> dict[str, Any]:
    """The answer to a custody command: what was recorded, and the child's custody after it."""
    refusals = [e for e in recorded if isinstance(e, ReleaseRefused | GateAttemptHeldBack)]
    refusal = None
    if refusals:
        code = refusals[0].reason_code
        refusal = {"code": code, "message": {**REFUSAL_MESSAGES, **HELD_BACK_MESSAGES}[code]}
    return {
        "outcome": "refused" if refusals else "recorded",
        "refusal": refusal,
        "recorded": [type(e).__name__ for e in recorded],
        "custody": custody_view(state),
    }
