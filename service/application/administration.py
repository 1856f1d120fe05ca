"""Commands that set a school up: the school and its places, the roster, staff and tokens, guardians.

Mixed into the Handoff application; school, roster and staff set-up run from the CLI, guardian changes also
over HTTP for admins."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, time, timedelta
from functools import reduce
from typing import TYPE_CHECKING, Any
from uuid import UUID

from aggregates import guardians as guardian_rules
from aggregates import roster, school, staff
from aggregates.base import EventMeta
from aggregates.roster import RosterEntry
from aggregates.school import School
from aggregates.staff import Role, StaffMember
from service.application.context import Actor, CommandContext
from service.application.personal_data import ERASED

if TYPE_CHECKING:
    from service.application.handoff import Handoff


def token_hash(secret: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is enough to keep them unusable at rest."""
    return hashlib.sha256(secret.encode()).hexdigest()


TOKEN_FORM = re.compile(r"hs1\.([0-9a-f]{32})\.([0-9a-f]{1,16})\.([A-Za-z0-9_-]{16,128})")
"""What `issue_token` hands out: the staff stream in plain hex, the token id and the URL-safe secret."""


def parse_token(token: str) -> tuple[UUID, str, str] | None:
    """Split a bearer token into staff stream, token id and secret; None if it is not in the form we issue."""
    parts = TOKEN_FORM.fullmatch(token)
    if parts is None:
        return None
    return UUID(hex=parts[1]), parts[2], parts[3]


class AdministrationCommands:
    """School set-up, staff tokens and guardian authorisations."""

    def register_school(
        self: Handoff,
        ctx: CommandContext,
        name: str,
        district_id: str,
        time_zone: str,
        service_ends_at: time = time(17, 30),
    ) -> None:
        """Register a school with its district, time zone and the daily end of after-school service."""
        found = self._get(school.school_id_for(ctx.school_id), school.project) or School.unregistered(ctx.school_id)
        self.save(*found.register(ctx.meta(self.clock()), name, district_id, time_zone, service_ends_at))

    def add_place(self: Handoff, ctx: CommandContext, place_code: str, kind: str, label_zh: str, label_en: str) -> None:
        """Add a temporary class, room or venue to a school."""
        found = self.school(ctx.school_id)
        self.save(*found.add_place(ctx.meta(self.clock()), place_code, kind, label_zh, label_en))

    def schedule_term(
        self: Handoff, ctx: CommandContext, term_id: str, starts_on: date, ends_on: date, places: int
    ) -> None:
        """Schedule a term of after-school service and how many children it can take."""
        self.save(
            *self.school(ctx.school_id).schedule_term(ctx.meta(self.clock()), term_id, starts_on, ends_on, places)
        )

    def add_release_batch(
        self: Handoff, ctx: CommandContext, code: str, label_zh: str, label_en: str, ends_at: time
    ) -> None:
        """Add a release batch (弹性离校) and its end time."""
        self.save(*self.school(ctx.school_id).add_batch(ctx.meta(self.clock()), code, label_zh, label_en, ends_at))

    def schedule_session(
        self: Handoff, ctx: CommandContext, season: str, name: str, weekdays: list[str], starts_at: time, ends_at: time
    ) -> None:
        """Schedule a session of the service day for a season (两时段)."""
        sch = self.school(ctx.school_id)
        self.save(*sch.schedule_session(ctx.meta(self.clock()), season, name, weekdays, starts_at, ends_at))

    def add_child(
        self: Handoff,
        ctx: CommandContext,
        child_id: str,
        home_class: str,
        grade: int,
        *,
        name: str | None = None,
        sex: str | None = None,
        homeroom_teacher_id: str | None = None,
    ) -> None:
        """Put a child on the school roster; the name and sex are sealed with the child's own key."""
        self.school(ctx.school_id)
        entry = self._get(roster.roster_entry_id(ctx.school_id, child_id), roster.project)
        entry = entry or RosterEntry.absent(ctx.school_id, child_id)
        sealed = self.personal.seal(ctx.school_id, child_id, {"name": name, "sex": sex}) if name or sex else ""
        self.save(*entry.add(ctx.meta(self.clock()), home_class, grade, homeroom_teacher_id, sealed))

    def erase_child(self: Handoff, ctx: CommandContext, child_id: str, reason: str) -> dict[str, Any]:
        """Erase a child's personal data: record the erasure, then destroy their key.

        Recorded first, so that no key is destroyed without its record; any later request (a retry, or a new one
        refused as already erased) destroys a key that an interrupted erasure left behind."""
        if self.roster_entry(ctx.school_id, child_id).erased:
            self.personal.erase(ctx.school_id, child_id)

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            recorded = self.roster_entry(ctx.school_id, child_id).erase(meta, reason)
            return recorded, {"child_id": child_id, "erased": True}

        answer = self.command(ctx, "erase_child", decided)
        self.personal.erase(ctx.school_id, child_id)
        return answer

    def child_card(self: Handoff, actor: Actor, school_id: str, child_id: str) -> dict[str, Any]:
        """The roster entry, with the child's name for school staff, or that it was erased."""
        actor.require("read_child_day", school_id)
        entry = self.roster_entry(school_id, child_id)
        opened = self.personal.open(school_id, child_id, entry.sealed) if entry.sealed and not entry.erased else None
        return {
            "child_id": child_id,
            "home_class": entry.home_class,
            "grade": entry.grade,
            "homeroom_teacher_id": entry.homeroom_teacher_id,
            "name": ERASED if entry.erased else (opened or {}).get("name"),
            "erased": entry.erased,
        }

    def register_staff(self: Handoff, ctx: CommandContext, staff_id: str, role: Role, district_id: str) -> None:
        """Register a staff member in a registered school, or a regulator in a district (ctx.school_id is then the
        district)."""
        if role is not Role.REGULATOR and self.school(ctx.school_id).district_id != district_id:
            raise school.SchoolInOtherDistrictError(district_id=district_id)
        member = self._get(staff.staff_stream_id(ctx.school_id, staff_id), staff.project)
        member = member or StaffMember.unregistered(ctx.school_id, staff_id)
        self.save(*member.register(ctx.meta(self.clock()), role, district_id))

    def issue_token(self: Handoff, ctx: CommandContext, staff_id: str, valid_for: timedelta) -> str:
        """Issue a bearer token; the plain token is returned once and only its hash is stored."""
        member = self.staff_member(ctx.school_id, staff_id)
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        now = self.clock()
        self.save(*member.issue_token(ctx.meta(now), token_id, token_hash(secret), now + valid_for))
        return f"hs1.{member.id.hex}.{token_id}.{secret}"

    def revoke_tokens(self: Handoff, ctx: CommandContext, staff_id: str, reason: str, token_id: str | None) -> int:
        """Revoke one token or all of a staff member's tokens; returns how many were revoked."""
        member = self.staff_member(ctx.school_id, staff_id)
        recorded = member.revoke_tokens(ctx.meta(self.clock()), reason, token_id)
        self.save(*recorded)
        return len(recorded)

    def authenticate(self: Handoff, token: str) -> StaffMember | None:
        """The staff member a bearer token belongs to, if it is live; None otherwise."""
        parsed = parse_token(token)
        if parsed is None:
            return None
        stream, token_id, secret = parsed
        member = self._get(stream, staff.project)
        if member is None or not member.accepts(token_id, token_hash(secret), self.clock()):
            return None
        return member

    # Guardians

    def authorise_guardian(
        self: Handoff,
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
        code_hash = self.pickup_code_hash(ctx.school_id, child_id, guardian_id, pickup_code)
        sealed = self.personal.seal(ctx.school_id, child_id, {"name": name, "phone": phone}) if name or phone else ""
        return self._guardians_command(
            ctx,
            child_id,
            lambda g, meta: g.authorise(
                meta, guardian_id, relation, code_hash, valid_from, valid_until, photo_ref, sealed
            ),
        )

    def change_pickup_code(
        self: Handoff, ctx: CommandContext, child_id: str, guardian_id: str, code: str
    ) -> dict[str, Any]:
        """Give a guardian a new pickup code; only its keyed hash is stored."""
        code_hash = self.pickup_code_hash(ctx.school_id, child_id, guardian_id, code)
        return self._guardians_command(
            ctx, child_id, lambda g, meta: g.change_pickup_code(meta, guardian_id, code_hash)
        )

    def flag_person(
        self: Handoff, ctx: CommandContext, child_id: str, person_id: str, reason: str, name: str | None = None
    ) -> dict[str, Any]:
        """Flag a person who must never collect the child (e.g. a court order)."""
        sealed = self.personal.seal(ctx.school_id, child_id, {"name": name}) if name else ""
        return self._guardians_command(ctx, child_id, lambda g, meta: g.flag(meta, person_id, reason, sealed))

    def lift_flag(self: Handoff, ctx: CommandContext, child_id: str, person_id: str, reason: str) -> dict[str, Any]:
        """Lift a flag, e.g. when a court order ends."""
        return self._guardians_command(ctx, child_id, lambda g, meta: g.lift_flag(meta, person_id, reason))

    def revoke_guardian(
        self: Handoff, ctx: CommandContext, child_id: str, guardian_id: str, reason: str
    ) -> dict[str, Any]:
        """Take a person off a child's authorised list."""
        return self._guardians_command(ctx, child_id, lambda g, meta: g.revoke(meta, guardian_id, reason))

    def allow_self_release(
        self: Handoff, ctx: CommandContext, child_id: str, not_before: time | None
    ) -> dict[str, Any]:
        """Let a child leave alone from a local time (None withdraws the permission)."""
        if not_before is None:
            return self._guardians_command(ctx, child_id, lambda g, meta: g.withdraw_self_release(meta))
        return self._guardians_command(ctx, child_id, lambda g, meta: g.allow_self_release(meta, not_before))

    def _guardians_command(self: Handoff, ctx: CommandContext, child_id: str, decide: Any) -> dict[str, Any]:
        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            self.roster_entry(ctx.school_id, child_id)
            found = self.guardians(ctx.school_id, child_id)
            recorded = decide(found, meta)
            return recorded, guardians_view(reduce(guardian_rules.evolve, recorded, found))

        return self.command(ctx, "manage_guardians", decided)


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
