"""Model-based test: a RuleBasedStateMachine drives the service beside a plain model of the handoff rules.

After every step the safety invariants are checked against the stored events: at most one release per child and
day; every release follows a confirmation with the guardian it released to, who was authorised at that moment;
exactly one custodian while in care; state rebuilt from the stored events equals the live state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import reduce

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from aggregates import custody as custody_rules
from aggregates import guardians as guardian_rules
from aggregates.base import DomainError
from aggregates.staff import Role
from events.custody import ChildReleased, GuardianAndChildConfirmed, Status
from tests.support import (
    AFTERNOON,
    CODES,
    SCHOOL,
    Clock,
    ctx,
    make_handoff,
    setup_school,
)

CHILDREN = ("C1", "C2", "C3")
STAFF = {"t1": "teacher", "t2": "teacher2", "g1": "gate", "d1": "duty_leader", "a1": "admin"}
ROLE_OF = {"t1": "teacher", "t2": "teacher", "g1": "gate", "d1": "duty_leader", "a1": "admin", "h1": "admin"}
MAY = {
    "check_in": {"teacher", "duty_leader"},
    "move": {"teacher", "duty_leader", "gate"},
    "mark_absent": {"teacher", "duty_leader", "admin"},
}
MIN_STEPS = 2_000
steps_taken = 0


@dataclass
class ChildModel:
    status: str = "expected"
    custodian: str | None = None
    place: str | None = None
    arrived: set[str] = field(default_factory=set)
    confirmed: str | None = None
    wrong_codes: int = 0
    """Wrong pickup codes: the third locks code entry for the day."""


class Refused(Exception):
    """What the model expects the service to answer, as an error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class HandoffMachine(RuleBasedStateMachine):
    @initialize()
    def open_school(self) -> None:
        self.clock = Clock()
        self.handoff = make_handoff(clock=self.clock)
        setup_school(self.handoff)
        self.children = {child: ChildModel() for child in CHILDREN}
        self.authorised = {"C1": set(CODES), "C2": set(), "C3": set()}
        self.last: tuple | None = None

    # The model's rules, in the order the service checks them

    def _require_role(self, actor: str, allowed: set[str]) -> None:
        if ROLE_OF[actor] not in allowed:
            raise Refused("role_not_allowed")

    def _require_in_care(self, child: ChildModel) -> None:
        if child.status == "released":
            raise Refused("child_already_released")
        if child.status != "in_care":
            raise Refused("child_not_in_care")

    def _require_custodian(self, child: ChildModel, actor: str) -> None:
        if actor != child.custodian and ROLE_OF[actor] != "duty_leader":
            raise Refused("not_current_custodian")

    def _may_leave_alone(self, child_id: str) -> bool:
        return child_id == "C2"

    def _expect(self, actor: str, child_id: str, command: str, args: tuple) -> str:
        """Apply a command to the model; return 'recorded' or 'refused:<code>', or raise Refused(code)."""
        child = self.children[child_id]
        if command == "check_in":
            self._require_role(actor, MAY["check_in"])
            keeper, place = args[1] or actor, args[0]
            if ROLE_OF[keeper] == "admin":
                raise Refused("cannot_hold_custody")
            if child_id == "C3" and child.status != "in_care":
                raise Refused("not_enrolled")
            if child.status == "in_care":
                raise Refused("child_already_in_care")
            if child.status == "released":
                raise Refused("child_already_released")
            if not self.authorised[child_id] and not self._may_leave_alone(child_id):
                raise Refused("no_pickup_arrangement")
            child.status, child.custodian, child.place = "in_care", keeper, place
            return "recorded"
        if command == "mark_absent":
            self._require_role(actor, MAY["mark_absent"])
            if child.status != "expected":
                raise Refused("child_cannot_be_marked_absent")
            child.status = "absent"
            return "recorded"
        self._require_role(actor, MAY["move"])
        if command == "transfer":
            to, place = args
            if ROLE_OF[to] == "admin":
                raise Refused("cannot_hold_custody")
            self._require_in_care(child)
            self._require_custodian(child, actor)
            if (to, place) == (child.custodian, child.place):
                raise Refused("transfer_changes_nothing")
            child.custodian, child.place = to, place
            return "recorded"
        self._require_in_care(child)
        if command == "arrival":
            guardian, code_ok = args
            if guardian in child.arrived:
                raise Refused("guardian_already_arrived")
            if guardian not in self.authorised[child_id]:
                return "refused:guardian_not_authorised"
            if child.wrong_codes >= 3:
                raise Refused("pickup_code_locked")
            if not code_ok:
                child.wrong_codes += 1
                return "refused:pickup_code_wrong"
            child.arrived.add(guardian)
            return "recorded"
        if command == "confirm":
            guardian, both = args
            if guardian not in child.arrived:
                raise Refused("guardian_not_arrived")
            self._require_custodian(child, actor)
            if child.confirmed == guardian:
                raise Refused("already_confirmed")
            if not both:
                return "refused:confirmation_mismatch"
            child.confirmed = guardian
            return "recorded"
        self._require_custodian(child, actor)
        (guardian,) = args
        if guardian is None:
            if not self._may_leave_alone(child_id):
                raise Refused("self_release_not_allowed")
            if self.clock.now < AFTERNOON + timedelta(minutes=30):
                raise Refused("too_early_for_self_release")
        elif child.confirmed != guardian:
            raise Refused("not_confirmed")
        elif guardian not in self.authorised[child_id]:
            return "refused:guardian_not_authorised"
        child.status, child.custodian = "released", None
        return "recorded"

    def _run(self, actor: str, child_id: str, command: str, *args: object) -> None:
        global steps_taken
        steps_taken += 1
        before = dict(vars(self.children[child_id]), arrived=set(self.children[child_id].arrived))
        try:
            expected = self._expect(actor, child_id, command, args)
        except Refused as refusal:
            self.children[child_id] = ChildModel(**before)
            expected = f"error:{refusal.code}"
        command_ctx = ctx(STAFF[actor])
        try:
            answer = self._call(command_ctx, child_id, command, args)
            outcome = answer["outcome"] if answer["outcome"] == "recorded" else f"refused:{answer['refusal']['code']}"
            self.last = (command_ctx, child_id, command, args, answer)
        except DomainError as error:
            outcome = f"error:{error.code}"
        assert outcome == expected, (command, actor, child_id, args)

    def _call(self, command_ctx, child_id: str, command: str, args: tuple) -> dict:
        h = self.handoff
        if command == "check_in":
            return h.care.check_in(command_ctx, child_id, args[0], args[1], None)
        if command == "transfer":
            return h.care.transfer(command_ctx, child_id, *args)
        if command == "arrival":
            guardian, code_ok = args
            code = CODES.get(guardian, "0000") if code_ok else "9999"
            return h.care.register_arrival(command_ctx, child_id, guardian, "pickup_code", code)
        if command == "confirm":
            return h.care.confirm(command_ctx, child_id, args[0], args[1], args[1])
        if command == "release":
            return h.care.release(command_ctx, child_id, args[0])
        return h.care.mark_absent(command_ctx, child_id, "sick")

    # Rules

    children_ids = st.sampled_from(CHILDREN)
    actors = st.sampled_from(sorted(STAFF))
    places = st.sampled_from(("T1", "T2", "GATE"))
    guardians = st.sampled_from(("G1", "G2", "GX"))

    @rule(actor=actors, child=children_ids, place=places, keeper=st.sampled_from((None, "t2", "h1")))
    def check_in(self, actor: str, child: str, place: str, keeper: str | None) -> None:
        self._run(actor, child, "check_in", place, keeper)

    @rule(actor=actors, child=children_ids, to=st.sampled_from(("t1", "t2", "g1", "d1", "h1")), place=places)
    def transfer(self, actor: str, child: str, to: str, place: str) -> None:
        self._run(actor, child, "transfer", to, place)

    @rule(actor=actors, child=children_ids, guardian=guardians, code_ok=st.booleans())
    def arrival(self, actor: str, child: str, guardian: str, code_ok: bool) -> None:
        self._run(actor, child, "arrival", guardian, code_ok)

    @rule(actor=actors, child=children_ids, guardian=guardians, both=st.booleans())
    def confirm(self, actor: str, child: str, guardian: str, both: bool) -> None:
        self._run(actor, child, "confirm", guardian, both)

    @rule(actor=actors, child=children_ids, guardian=st.sampled_from((None, "G1", "G2", "GX")))
    def release(self, actor: str, child: str, guardian: str | None) -> None:
        self._run(actor, child, "release", guardian)

    @rule(actor=actors, child=children_ids)
    def mark_absent(self, actor: str, child: str) -> None:
        self._run(actor, child, "mark_absent")

    @rule(actor=actors, child=children_ids)
    def unlock_code_entry(self, actor: str, child: str) -> None:
        model = self.children[child]
        if ROLE_OF[actor] != "duty_leader":
            expected = "error:role_not_allowed"
        elif model.wrong_codes < 3:
            expected = "error:code_entry_not_locked"
        else:
            expected = "recorded"
            model.wrong_codes = 0
        try:
            outcome = self.handoff.care.unlock_code_entry(ctx(STAFF[actor]), child, "checked the ID card")["outcome"]
        except DomainError as error:
            outcome = f"error:{error.code}"
        assert outcome == expected, ("unlock", actor, child)

    @rule(guardian=st.sampled_from(sorted(CODES)))
    def revoke_or_reauthorise(self, guardian: str) -> None:
        if guardian in self.authorised["C1"]:
            self.handoff.guardian_list.revoke_guardian(ctx("admin"), "C1", guardian, "court order")
            self.authorised["C1"].discard(guardian)
        else:
            self.handoff.guardian_list.authorise_guardian(ctx("admin"), "C1", guardian, "parent", CODES[guardian])
            self.authorised["C1"].add(guardian)

    @rule()
    def clock_passes_self_release_time(self) -> None:
        self.clock.now = AFTERNOON + timedelta(minutes=35)

    @rule()
    def retry_last_command(self) -> None:
        if self.last is None:
            return
        command_ctx, child_id, command, args, answer = self.last
        count = self._stored_count()
        again = self._call(command_ctx, child_id, command, args)
        assert again == {**answer, "replayed": True}
        assert self._stored_count() == count

    # Invariants over the stored events

    def _stored(self, child_id: str) -> list:
        state = self.handoff.custody(SCHOOL, child_id, AFTERNOON.date())
        return list(self.handoff.events.get(state.id))

    def _stored_count(self) -> int:
        return sum(len(self._stored(child)) for child in CHILDREN)

    @invariant()
    def at_most_one_release(self) -> None:
        for child in CHILDREN:
            assert sum(isinstance(e, ChildReleased) for e in self._stored(child)) <= 1

    @invariant()
    def releases_follow_confirmation_by_an_authorised_guardian(self) -> None:
        for child in CHILDREN:
            stored = self._stored(child)
            for n, event in enumerate(stored):
                if not isinstance(event, ChildReleased) or event.self_release:
                    continue
                confirmed = [e.guardian_id for e in stored[:n] if isinstance(e, GuardianAndChildConfirmed)]
                assert confirmed and confirmed[-1] == event.guardian_id
                at_release = self.handoff.repository.get(
                    guardian_rules.guardians_id(SCHOOL, child),
                    version=event.authorisation_version,
                    projector_func=guardian_rules.project,
                )
                assert at_release.is_authorised(event.guardian_id, AFTERNOON.date())

    @invariant()
    def exactly_one_custodian_while_in_care(self) -> None:
        for child in CHILDREN:
            state = self.handoff.custody(SCHOOL, child, AFTERNOON.date())
            if state.status is Status.IN_CARE:
                assert state.custodian_id is not None
                role = self.handoff.staff_member(SCHOOL, state.custodian_id).role
                assert role in (Role.TEACHER, Role.DUTY_LEADER, Role.GATE)
            else:
                assert state.custodian_id is None

    @invariant()
    def replay_equals_live_state_and_model(self) -> None:
        for child in CHILDREN:
            stored = self._stored(child)
            live = self.handoff.custody(SCHOOL, child, AFTERNOON.date())
            replayed = reduce(
                custody_rules.evolve, stored, custody_rules.Custody.expected(SCHOOL, child, AFTERNOON.date())
            )
            assert replayed == live
            model = self.children[child]
            assert (live.status.value, live.custodian_id, set(live.arrived_guardians), live.confirmed_guardian_id) == (
                model.status,
                model.custodian,
                model.arrived,
                model.confirmed,
            )


def test_handoff_rules_hold_for_any_command_sequence() -> None:
    global steps_taken
    steps_taken = 0
    run_state_machine_as_test(
        HandoffMachine,
        settings=settings(
            max_examples=100, stateful_step_count=50, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
    assert steps_taken >= MIN_STEPS, f"only {steps_taken} steps ran"
