"""Enrolment commands (家长申请 → 班级审核 → 学校复核 → 统筹安排, 安全责任书, withdrawal) and the school's service plan.

Priority categories and notes are sealed with the child's key; only admins
see them opened."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from functools import reduce
from typing import Any

from aggregates import enrolment as rules
from aggregates.base import EventMeta
from aggregates.enrolment import Enrolment
from aggregates.staff import Role
from service.application.area import Area
from service.application.context import Actor, CommandContext


class EnrolmentCommands(Area):
    """The four steps of enrolment, the safety agreement and withdrawal."""

    def apply_for_care(
        self,
        ctx: CommandContext,
        child_id: str,
        term_id: str,
        guardian_id: str,
        days: Sequence[str],
        release_batch: str,
        self_release: bool,
        priority: Sequence[str],
        notes: str,
    ) -> dict[str, Any]:
        """Record a guardian's written application (voluntary: nothing else ever enrols a child)."""

        def decide(state: Enrolment, meta: EventMeta) -> list[Any]:
            self.app.school(ctx.school_id).require_batch(release_batch)
            sealed = self.app.personal.seal(
                ctx.school_id, child_id, {"priority": ",".join(sorted(priority)), "notes": notes}
            )
            applied = state.apply(meta, guardian_id, days, release_batch, self_release, sealed, priority)
            return [*applied, *self.app.term_applicants(ctx.school_id, term_id).list_applicant(meta, child_id)]

        return self._enrolment_command(ctx, "apply_for_care", child_id, term_id, decide)

    def review_by_class(
        self, ctx: CommandContext, child_id: str, term_id: str, approved: bool, reason: str
    ) -> dict[str, Any]:
        """The homeroom teacher's review (班级审核)."""
        return self._enrolment_command(
            ctx, "review_by_class", child_id, term_id, lambda s, m: s.review_by_class(m, approved, reason)
        )

    def review_by_school(
        self, ctx: CommandContext, child_id: str, term_id: str, approved: bool, reason: str
    ) -> dict[str, Any]:
        """The school's review (学校复核); an approved child takes one of the term's places."""

        def decide(state: Enrolment, meta: EventMeta) -> list[Any]:
            reviewed = state.review_by_school(meta, approved, reason)
            if not approved:
                return reviewed
            places = self.app.school(ctx.school_id).require_term(term_id).places
            return [*reviewed, *self.app.term_applicants(ctx.school_id, term_id).take_place(meta, child_id, places)]

        return self._enrolment_command(ctx, "review_by_school", child_id, term_id, decide)

    def arrange(self, ctx: CommandContext, child_id: str, term_id: str, temporary_class: str) -> dict[str, Any]:
        """Arrange the child into a temporary class (统筹安排)."""

        def decide(state: Enrolment, meta: EventMeta) -> list[Any]:
            self.app.school(ctx.school_id).require_temporary_class(temporary_class)
            return state.arrange(meta, temporary_class)

        return self._enrolment_command(ctx, "arrange", child_id, term_id, decide)

    def sign_agreement(
        self,
        ctx: CommandContext,
        child_id: str,
        term_id: str,
        signed_by: str,
        guardians: Sequence[str],
        leave_alone_from: time | None,
        starts_on: date,
        ends_on: date,
    ) -> dict[str, Any]:
        """Record the signed safety agreement; a leave-alone time also becomes the child's self-release permission."""

        def decide(state: Enrolment, meta: EventMeta) -> list[Any]:
            listed = self.app.guardians(ctx.school_id, child_id)
            listed.require_all_listed([signed_by, *guardians])
            signed = state.sign_agreement(meta, signed_by, guardians, leave_alone_from, starts_on, ends_on)
            alone = listed.allow_self_release(meta, leave_alone_from) if leave_alone_from else []
            return [*signed, *alone]

        return self._enrolment_command(ctx, "sign_agreement", child_id, term_id, decide)

    def withdraw(self, ctx: CommandContext, child_id: str, term_id: str, reason: str) -> dict[str, Any]:
        """Withdraw the child from after-school care for the term; their place is free again."""

        def decide(state: Enrolment, meta: EventMeta) -> list[Any]:
            withdrawn = state.withdraw(meta, reason)
            return [*withdrawn, *self.app.term_applicants(ctx.school_id, term_id).give_up_place(meta, child_id)]

        return self._enrolment_command(ctx, "withdraw", child_id, term_id, decide)

    def enrolment_view(self, actor: Actor, school_id: str, child_id: str, term_id: str) -> dict[str, Any]:
        """Where the child's enrolment stands; priority categories only for admins."""
        actor.require("read_enrolment", school_id)
        self.app.roster_entry(school_id, child_id)
        state = self.app.enrolment(school_id, child_id, term_id)
        return enrolment_view(state, self._opened(actor, state))

    def _opened(self, actor: Actor, state: Enrolment) -> dict[str, Any] | None:
        if actor.role is not Role.ADMIN or not state.sealed:
            return None
        return self.app.personal.open(state.school_id, state.child_id, state.sealed) or {"erased": True}

    def _enrolment_command(
        self, ctx: CommandContext, action: str, child_id: str, term_id: str, decide: Any
    ) -> dict[str, Any]:
        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            self.app.roster_entry(ctx.school_id, child_id)
            self.app.school(ctx.school_id).require_term(term_id)
            state = self.app.enrolment(ctx.school_id, child_id, term_id)
            recorded = decide(state, meta)
            after = reduce(rules.evolve, [e for e in recorded if e.originator_id == state.id], state)
            return recorded, enrolment_view(after, None)

        return self.app.command(ctx, action, decided)


def enrolment_view(state: Enrolment, opened: dict[str, Any] | None) -> dict[str, Any]:
    agreement = state.agreement
    return {
        "child_id": state.child_id,
        "term_id": state.term_id,
        "stage": state.stage.value,
        "days": list(state.days),
        "release_batch": state.release_batch or None,
        "self_release_requested": state.self_release_requested,
        "temporary_class": state.temporary_class,
        "reason": state.reason or None,
        "agreement": None
        if agreement is None
        else {
            "signed_by": agreement.signed_by,
            "authorised_guardians": list(agreement.authorised_guardians),
            "leave_alone_from": agreement.leave_alone_from.isoformat() if agreement.leave_alone_from else None,
            "starts_on": agreement.starts_on.isoformat(),
            "ends_on": agreement.ends_on.isoformat(),
        },
        "priority": None if opened is None else opened,
    }
