"""The Handoff application: its methods are the commands (load, decide, save, return)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from functools import reduce
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from aggregates import custody, gate_guard, guardians, roster, school, staff
from aggregates import enrolment as enrolment_rules
from aggregates.base import DomainError, EventMeta, InvalidCommandError, RuleBrokenError, stream_id
from aggregates.custody import REFUSAL_MESSAGES, Custody, Status
from aggregates.enrolment import Enrolment
from aggregates.gate_guard import HELD_BACK_MESSAGES, GateGuard
from aggregates.guardians import Guardians
from aggregates.roster import ChildNotFoundError, RosterEntry
from aggregates.school import School, SchoolNotFoundError
from aggregates.staff import Role, StaffMember, StaffNotFoundError
from events.custody import CustodyEvent, ReleaseRefused
from events.envelope import HandoffEvent
from events.gate_guard import GateAttemptHeldBack, GateLimitReached
from events.idempotency import CommandAnswered
from replay.state import entry as event_view
from service.application.administration import AdministrationCommands
from service.application.context import Actor, CommandContext
from service.application.dismissal import DismissalCommands
from service.application.enrolment import EnrolmentCommands
from service.application.incidents import IncidentCommands
from service.application.index import Index, LogIndex
from service.application.moved_topics import register_moved_topics
from service.application.onboarding import OnboardingCommands
from service.application.outbox import OutboxCommands
from service.application.personal_data import KeyStore, MemoryKeyStore, PersonalData
from service.application.planning import PlanningCommands
from service.application.roster_import import RosterImport
from service.application.roster_sync import RosterSync
from service.application.views import custody_view

Decision = Callable[[Custody, EventMeta, School], list[CustodyEvent]]
Decided = tuple[Sequence[HandoffEvent], dict[str, Any]]


register_moved_topics()


class ConcurrentChangeError(RuleBrokenError):
    """Another device changed the same record at the same moment; this command was not recorded."""

    code = "concurrent_change"
    message = "Someone else just changed this record on another device. Check the current state and try again."


class IdempotencyKeyReusedError(InvalidCommandError):
    """An idempotency key names one request only."""

    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for a different request."


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Handoff(
    AdministrationCommands,
    DismissalCommands,
    EnrolmentCommands,
    IncidentCommands,
    OnboardingCommands,
    OutboxCommands,
    PlanningCommands,
    RosterImport,
    RosterSync,
    Application[UUID],
):
    """Commands and queries over the custody, guardian, roster, school and staff streams."""

    name = "Handoff"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        secret_key: str,
        clock: Callable[[], datetime] = utc_now,
        keys: KeyStore | None = None,
    ):
        super().__init__(env)
        self.secret_key = secret_key.encode()
        self.clock = clock
        self.personal = PersonalData(keys or MemoryKeyStore())
        self.index: Index = LogIndex(self.recorder, self.mapper)
        """Where the day's incidents and the schools are found: the views once the runtime plugs them in."""

    def close(self) -> None:
        """Close the event store's connections and the key store's."""
        super().close()
        self.personal.keys.close()

    # Custody commands

    def check_in(
        self, ctx: CommandContext, child_id: str, place_code: str, custodian_id: str | None, handed_over_by: str | None
    ) -> dict[str, Any]:
        """Take a child into after-school care, with a named adult at a named place."""
        keeper = custodian_id or ctx.actor.staff_id

        def decide(state: Custody, meta: EventMeta, sch: School) -> list[CustodyEvent]:
            sch.require_place(place_code)
            self.staff_member(ctx.school_id, keeper).require_custodian()
            if state.status is not Status.IN_CARE:
                term = sch.term_on(state.service_day)
                self.enrolment(ctx.school_id, child_id, term.term_id).require_in_care_on(state.service_day)
            closed = self.service_day_state(ctx.school_id, state.service_day).state == "closed"
            found = self.guardians(ctx.school_id, child_id)
            return state.check_in(meta, keeper, place_code, handed_over_by, found, closed)

        return self._custody_command(ctx, "check_in", child_id, decide)

    def transfer(self, ctx: CommandContext, child_id: str, to_custodian_id: str, to_place_code: str) -> dict[str, Any]:
        """Hand a child on to another named adult and place."""

        def decide(state: Custody, meta: EventMeta, sch: School) -> list[CustodyEvent]:
            sch.require_place(to_place_code)
            self.staff_member(ctx.school_id, to_custodian_id).require_custodian()
            return state.transfer(meta, to_custodian_id, to_place_code)

        return self._custody_command(ctx, "transfer", child_id, decide)

    def register_arrival(
        self, ctx: CommandContext, child_id: str, guardian_id: str, verification: str, pickup_code: str | None
    ) -> dict[str, Any]:
        """Check an arriving guardian against the authorised list and their pickup code."""
        code_hash = self.pickup_code_hash(ctx.school_id, child_id, guardian_id, pickup_code) if pickup_code else None

        def decide(state: Custody, meta: EventMeta, _: School) -> list[Any]:
            found = self.guardians(ctx.school_id, child_id)
            guard = self.gate_guard(ctx.school_id, state.service_day)
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
            self._gate_limit_incident(ctx, child_id, limit)
        return answer

    def _gate_limit_incident(self, ctx: CommandContext, child_id: str, limit: GateLimitReached) -> None:
        """A limit of failed pickup checks opens one unauthorised-pickup incident (its id derives from the limit)."""
        key = f"gate-limit-{limit.originator_id.hex}-{limit.originator_version}"
        actor = Actor("gate-guard", Role.ADMIN, ctx.school_id, ctx.actor.district_id)
        opened = CommandContext(actor, ctx.school_id, ctx.device_id, ctx.device_time, key, "gate-guard", {"key": key})
        where = f"device {limit.limited_device_id}" if limit.scope == "device" else "the whole school"
        summary = f"{limit.count} failed pickup checks ({limit.what}) today from {where}: further ones are held back"
        self.open_incident(opened, "unauthorised_pickup_attempt", [child_id], [ctx.actor.staff_id], summary, key, key)

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
            found = self.guardians(ctx.school_id, child_id)
            return state.confirm(meta, guardian_id, guardian_recognised_child, child_recognised_guardian, found)

        return self._custody_command(ctx, "confirm", child_id, decide)

    def release(self, ctx: CommandContext, child_id: str, guardian_id: str | None) -> dict[str, Any]:
        """Release a child to the confirmed guardian, or alone where the agreement allows it (guardian_id None)."""

        def decide(state: Custody, meta: EventMeta, sch: School) -> list[CustodyEvent]:
            found = self.guardians(ctx.school_id, child_id)
            emergency = self.service_day_state(ctx.school_id, state.service_day).emergency
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
            self.roster_entry(ctx.school_id, child_id)
            state = self.custody(ctx.school_id, child_id, day)
            latest = list(self.events.get(state.id, desc=True, limit=1))
            if not latest:
                raise custody.NothingToCorrectError
            before = self._custody_at(ctx.school_id, child_id, day, state.version - 1)
            recorded = state.correct(meta, latest[0], reason, before)
            return recorded, command_response(reduce(custody.evolve, recorded, state), recorded)

        return self.command(ctx, "correct", decided)

    # Queries

    def child_day(self, actor: Actor, school_id: str, child_id: str, day: date) -> dict[str, Any]:
        """A child's status, current custodian and history on one service day."""
        actor.require("read_child_day", school_id)
        self.school(school_id)
        self.roster_entry(school_id, child_id)
        state = self.custody(school_id, child_id, day)
        history = self.events.get(state.id)
        return {"custody": custody_view(state), "history": [event_view(e) for e in history]}

    # Loading streams

    def school(self, school_id: str) -> School:
        return self._load(school.school_id_for(school_id), school.project, SchoolNotFoundError)

    def school_ids(self) -> list[str]:
        """Every registered school, sorted."""
        return self.index.school_ids()

    def staff_member(self, scope_id: str, staff_id: str) -> StaffMember:
        found = self._get(staff.staff_stream_id(scope_id, staff_id), staff.project)
        if found is None:
            raise StaffNotFoundError(staff_id=staff_id)
        return found

    def roster_entry(self, school_id: str, child_id: str) -> RosterEntry:
        return self._load(roster.roster_entry_id(school_id, child_id), roster.project, ChildNotFoundError)

    def gate_guard(self, school_id: str, service_day: date) -> GateGuard:
        """Today's counts and limits of failed pickup checks at the school's gate."""
        found = self._get(gate_guard.gate_guard_id(school_id, service_day), gate_guard.project)
        return found or GateGuard.opened(school_id, service_day)

    def guardians(self, school_id: str, child_id: str) -> Guardians:
        found = self._get(guardians.guardians_id(school_id, child_id), guardians.project)
        return found or Guardians.empty(school_id, child_id)

    def enrolment(self, school_id: str, child_id: str, term_id: str) -> Enrolment:
        found = self._get(enrolment_rules.enrolment_id(school_id, child_id, term_id), enrolment_rules.project)
        return found or Enrolment.none(school_id, child_id, term_id)

    def _custody_at(self, school_id: str, child_id: str, day: date, version: int) -> Custody:
        if version < 1:
            return Custody.expected(school_id, child_id, day)
        stream = custody.custody_id(school_id, child_id, day)
        return self.repository.get(stream, version=version, projector_func=custody.project)

    def custody(self, school_id: str, child_id: str, day: date) -> Custody:
        found = self._get(custody.custody_id(school_id, child_id, day), custody.project)
        return found or Custody.expected(school_id, child_id, day)

    def pickup_code_hash(self, school_id: str, child_id: str, guardian_id: str, code: str) -> str:
        """Keyed hash of a pickup code: without the server's secret key, short codes cannot be guessed offline."""
        message = "/".join((school_id, child_id, guardian_id, code)).encode()
        return hmac.new(self.secret_key, message, hashlib.sha256).hexdigest()

    def _get(self, stream: UUID, projector: Callable[..., Any]) -> Any:
        try:
            return self.repository.get(stream, projector_func=projector)
        except AggregateNotFoundError:
            return None

    def _load(self, stream: UUID, projector: Callable[..., Any], missing: type[DomainError]) -> Any:
        found = self._get(stream, projector)
        if found is None:
            raise missing
        return found

    # Saving, exactly once per idempotency key

    def command(
        self,
        ctx: CommandContext,
        action: str,
        decide: Callable[[EventMeta], Decided],
        reread: Callable[[], Custody] | None = None,
    ) -> dict[str, Any]:
        """Check the role, answer a retried key from its stored answer, else decide, then record."""
        ctx.actor.require(action, ctx.school_id)
        answered = self._answer_for(ctx)
        if answered is not None:
            return answered
        meta = ctx.meta(self.clock())
        try:
            recorded, response = decide(meta)
        except DomainError:  # a concurrent retry of this very request may have just committed: its answer stands
            answered = self._answer_for(ctx)
            if answered is not None:
                return answered
            raise
        return self.record(ctx, meta, recorded, response, reread)

    def _custody_command(self, ctx: CommandContext, action: str, child_id: str, decide: Decision) -> dict[str, Any]:
        def decided(meta: EventMeta) -> Decided:
            sch = self.school(ctx.school_id)
            self.roster_entry(ctx.school_id, child_id)
            state = self.custody(ctx.school_id, child_id, sch.service_day(meta.timestamp))
            recorded = decide(state, meta, sch)
            own = [e for e in recorded if isinstance(e, CustodyEvent)]
            return recorded, command_response(reduce(custody.evolve, own, state), recorded)

        def reread() -> Custody:
            return self.custody(ctx.school_id, child_id, self.school(ctx.school_id).service_day(self.clock()))

        return self.command(ctx, action, decided, reread)

    def record(
        self,
        ctx: CommandContext,
        meta: EventMeta,
        recorded: Sequence[HandoffEvent],
        response: dict[str, Any],
        reread: Callable[[], Custody] | None = None,
    ) -> dict[str, Any]:
        """Save the events with the answer under the idempotency key, in one transaction.

        A conflict is first re-read: the key's answer may already be stored, by a concurrent retry or by our own
        commit whose acknowledgement was lost with the connection (an ambiguous commit). Only a change by someone
        else is answered 409. A command that changes nothing records nothing, not even its answer."""
        if not recorded:
            return {**response, "replayed": False}
        answer = CommandAnswered(
            **meta.fields(),
            originator_id=answer_id(ctx),
            originator_version=1,
            request_fingerprint=ctx.fingerprint,
            status_code=200,
            response=response,
        )
        try:
            self.save(*recorded, answer)
        except IntegrityError:
            answered = self._answer_for(ctx)
            if answered is not None:
                return answered
            current = custody_view(reread()) if reread else None
            raise ConcurrentChangeError(current=current) from None
        return {**response, "replayed": False}

    def _answer_for(self, ctx: CommandContext) -> dict[str, Any] | None:
        stored = self.events.get(answer_id(ctx), limit=1)
        for answer in stored:
            if answer.request_fingerprint != ctx.fingerprint:
                raise IdempotencyKeyReusedError
            return {**answer.response, "replayed": True}
        return None


def answer_id(ctx: CommandContext) -> UUID:
    return stream_id("answer", ctx.school_id, ctx.idempotency_key)


def command_response(state: Custody, recorded: Sequence[CustodyEvent]) -> dict[str, Any]:
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
