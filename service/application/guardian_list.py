"""Guardian-list commands: authorise and revoke guardians, pickup codes, leaving alone, flagged people (Guardians
stream). Names and phones are sealed with the child's key; pickup codes are kept as keyed hashes only."""

from __future__ import annotations

from datetime import date, time
from functools import reduce
from typing import Any

from aggregates import guardians as guardian_rules
from aggregates.base import EventMeta
from service.application.area import Area
from service.application.context import CommandContext


class GuardianListCommands(Area):
    """The authorised guardians of a child, their pickup codes and flags."""

    def authorise_guardian(
        self,
        ctx: CommandContext,
        child_id: str,
        guardian_id: str,
        relation: str,
        pickup_code: str,
        valid_from: date | None = None,
        valid_until: date | None = None,
        *,
        name: str | None = None,
        phone: str | None = None,
        photo_ref: str | None = None,
    ) -> dict[str, Any]:
        """Authorise a person to collect a child, possibly only for some days; name and phone are sealed."""
        code_hash = self.app.pickup_code_hash(ctx.school_id, child_id, guardian_id, pickup_code)
        sealed = (
            self.app.personal.seal(ctx.school_id, child_id, {"name": name, "phone": phone}) if name or phone else ""
        )
        return self._guardians_command(
            ctx,
            child_id,
            lambda g, meta: g.authorise(
                meta, guardian_id, relation, code_hash, valid_from, valid_until, photo_ref, sealed
            ),
        )

    def change_pickup_code(self, ctx: CommandContext, child_id: str, guardian_id: str, code: str) -> dict[str, Any]:
        """Give a guardian a new pickup code; only its keyed hash is stored."""
        code_hash = self.app.pickup_code_hash(ctx.school_id, child_id, guardian_id, code)
        return self._guardians_command(
            ctx, child_id, lambda g, meta: g.change_pickup_code(meta, guardian_id, code_hash)
        )

    def flag_person(
        self, ctx: CommandContext, child_id: str, person_id: str, reason: str, name: str | None = None
    ) -> dict[str, Any]:
        """Flag a person who must never collect the child (e.g. a court order)."""
        sealed = self.app.personal.seal(ctx.school_id, child_id, {"name": name}) if name else ""
        return self._guardians_command(ctx, child_id, lambda g, meta: g.flag(meta, person_id, reason, sealed))

    def lift_flag(self, ctx: CommandContext, child_id: str, person_id: str, reason: str) -> dict[str, Any]:
        """Lift a flag, e.g. when a court order ends."""
        return self._guardians_command(ctx, child_id, lambda g, meta: g.lift_flag(meta, person_id, reason))

    def revoke_guardian(self, ctx: CommandContext, child_id: str, guardian_id: str, reason: str) -> dict[str, Any]:
        """Take a person off a child's authorised list."""
        return self._guardians_command(ctx, child_id, lambda g, meta: g.revoke(meta, guardian_id, reason))

    def allow_self_release(self, ctx: CommandContext, child_id: str, not_before: time | None) -> dict[str, Any]:
        """Let a child leave alone from a local time (None withdraws the permission)."""
        if not_before is None:
            return self._guardians_command(ctx, child_id, lambda g, meta: g.withdraw_self_release(meta))
        return self._guardians_command(ctx, child_id, lambda g, meta: g.allow_self_release(meta, not_before))

    def _guardians_command(self, ctx: CommandContext, child_id: str, decide: Any) -> dict[str, Any]:
        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            self.app.roster_entry(ctx.school_id, child_id)
            found = self.app.guardians(ctx.school_id, child_id)
            recorded = decide(found, meta)
            return recorded, guardians_view(reduce(guardian_rules.evolve, recorded, found))

        return self.app.command(ctx, "manage_guardians", decided)


def guardians_view(state: guardian_rules.Guardians) -> dict[str, Any]:
    return {
        "child_id": state.child_id,
        "authorisation_version": state.version,
        "guardians": [
            {
                "guardian_id": a.guardian_id,
                "relation": a.relation,
                "valid_from": a.valid_from.isoformat() if a.valid_from else None,
                "valid_until": a.valid_until.isoformat() if a.valid_until else None,
            }
            for a in sorted(state.authorisations.values(), key=lambda a: a.guardian_id)
        ],
        "flagged": sorted(state.flagged),
        "self_release_not_before": state.self_release_not_before.isoformat(timespec="seconds")
        if state.self_release_not_before
        else None,
    }
