"""Audit exports (督导检查): a bundle of schools and days that a regulator can verify alone, and the record of the
disclosure (who, what, when, why) as an event. Used by `handoff export` and by the export routes.

Who may export: a school admin for their own school, a regulator for the schools of their district. Names instead
of pseudonyms only for a school admin; a regulator's export is always pseudonymised."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aggregates.base import DomainError, ForbiddenError, InvalidCommandError, RuleBrokenError, stream_id
from aggregates.staff import Role, StaffNotFoundError
from events.audit import AuditExportMade
from replay.export import ExportSummary, export_bundle
from replay.export_signed import UnknownSigningKeyError
from service.application.context import Actor, CommandContext
from service.application.handoff import Handoff, IdempotencyKeyReusedError
from service.infra.event_log import event_log
from service.infra.signing_keys import KeyHistory
from service.processes.checkpoints import Checkpointer, checkpoints
from service.processes.witness_client import StandInWitness, WitnessClient

MAX_DAYS = 366


class NamesNotAllowedError(ForbiddenError):
    code = "names_not_allowed"
    message = "Only a school admin may export children's names; leave names out to get pseudonyms."


class BadExportRangeError(InvalidCommandError):
    code = "bad_export_range"
    message = "The first day must not be after the last, and an export covers at most 366 days."


class NoSchoolToExportError(InvalidCommandError):
    code = "no_school_to_export"
    message = "There is no school with recorded events to export here."


class ExportAlreadyMadeError(RuleBrokenError):
    code = "export_already_made"
    message = (
        "This export was already made with this Idempotency-Key, and a retry does not disclose the data a second"
        " time. To make a new export, send a new key."
    )


class SigningKeyUnknownError(DomainError):
    status = 503
    code = "signing_key_unknown"
    message = (
        "The school's checkpoints were signed with a key this server does not have on record, so no export can be"
        " signed. Restore the signing key file and its history from the backup (see the README, signing keys)."
    )


@dataclass(frozen=True)
class Exporter:
    """Makes bundles from the school's PostgreSQL store, signed with the checkpoint key."""

    handoff: Handoff
    url: str
    key: Ed25519PrivateKey
    history: KeyHistory = KeyHistory()
    witness: WitnessClient | None = None

    def export(
        self,
        ctx: CommandContext,
        schools: Sequence[str],
        days: tuple[date, date],
        out: Path,
        reason: str,
        requested_by: str,
        with_names: bool = False,
    ) -> ExportSummary:
        """Sign the current heads, write the bundle to `out` (new or empty), and record the disclosure."""
        if not schools:
            raise NoSchoolToExportError
        if days[0] > days[1] or (days[1] - days[0]).days >= MAX_DAYS:
            raise BadExportRangeError
        self._refuse_a_second_disclosure(ctx, list(schools), days, requested_by, reason, with_names)
        checkpointer = Checkpointer(self.url, event_log(self.handoff), self.key, self.handoff.clock, self.witness)
        checkpointer.run_once()
        personal = self.handoff.personal
        names = (lambda school, child, token: personal.open(school, child, token)) if with_names else None
        try:
            summary = export_bundle(
                event_log(self.handoff),
                out,
                list(schools),
                days[0],
                days[1],
                checkpoints(self.url, list(schools)),
                self.history.signer(self.key),
                pseudonymise=not with_names,
                names=names,
                salts=checkpointer.salts,
            )
        except UnknownSigningKeyError:
            raise SigningKeyUnknownError from None
        self._record(ctx, summary, list(schools), days, requested_by, reason)
        return summary

    def export_zip(
        self,
        ctx: CommandContext,
        schools: Sequence[str],
        days: tuple[date, date],
        reason: str,
        requested_by: str,
        with_names: bool = False,
    ) -> tuple[Path, ExportSummary]:
        """The bundle as a zip file in a temporary folder of its own (the caller removes `path.parent`)."""
        folder = Path(tempfile.mkdtemp(prefix="handoff-export-"))
        try:
            summary = self.export(ctx, schools, days, folder / "bundle", reason, requested_by, with_names)
            archive = shutil.make_archive(str(folder / "bundle"), "zip", folder / "bundle")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        shutil.rmtree(folder / "bundle")
        return Path(archive), summary

    def published_witness(self) -> dict[str, str | bool] | None:
        """The witness whose cosignatures this server's bundles carry (its vkey, as verifiers pin it), and whether it
        is the development stand-in; None when checkpoints are submitted to no witness."""
        if self.witness is None:
            return None
        stand_in = isinstance(self.witness, StandInWitness)
        return {"vkey": self.witness.vkey, "name": self.witness.vkey.partition("+")[0], "stand_in": stand_in}

    def district_schools(self, district: str) -> list[str]:
        """The schools registered in a district, from the log."""
        return [school for school in self.handoff.school_ids() if self.handoff.school(school).district_id == district]

    def _refuse_a_second_disclosure(
        self, ctx: CommandContext, schools: list[str], days: tuple[date, date], by: str, reason: str, names: bool
    ) -> None:
        """One Idempotency-Key, one disclosure: the same request again is told it was made, another one is refused."""
        found = self.handoff.recorder.select_events(_disclosure_id(ctx), limit=1)
        if not found:
            return
        made = cast(AuditExportMade, self.handoff.mapper.to_domain_event(found[0]))
        asked = (ctx.actor.staff_id, schools, days[0].isoformat(), days[1].isoformat(), by, reason, not names)
        if (made.actor_id, made.schools, made.day_from, made.day_to, made.requested_by, made.reason,
                made.pseudonymised) == asked:  # fmt: skip
            raise ExportAlreadyMadeError
        raise IdempotencyKeyReusedError

    def _record(
        self,
        ctx: CommandContext,
        summary: ExportSummary,
        schools: list[str],
        days: tuple[date, date],
        requested_by: str,
        reason: str,
    ) -> None:
        """Record the disclosure on a stream of its own, in the first school's name."""
        meta = ctx.meta(self.handoff.clock())
        roots = {school: {"tree_size": summary.tree_sizes[school], "root": summary.roots[school]} for school in schools}
        fields = {**meta.fields(), "school_id": schools[0]}
        self.handoff.save(
            AuditExportMade(
                **fields,
                originator_id=_disclosure_id(ctx),
                originator_version=1,
                schools=schools,
                day_from=days[0].isoformat(),
                day_to=days[1].isoformat(),
                pseudonymised=summary.pseudonymised,
                requested_by=requested_by,
                reason=reason,
                roots=roots,
            )
        )


def _disclosure_id(ctx: CommandContext) -> UUID:
    """The disclosure's stream: one per caller's scope and Idempotency-Key, so a retry cannot record a second."""
    return stream_id("export", f"{ctx.actor.scope_id}\x1f{ctx.actor.staff_id}\x1f{ctx.idempotency_key}")


def require_requester(handoff: Handoff, school_id: str, requested_by: str, with_names: bool) -> None:
    """For the command line: the person named as requester must be allowed what HTTP would allow them. Names need a
    registered admin of the school; a registered staff member of the school or its district must hold the role."""
    district = handoff.school(school_id).district_id
    for scope in (school_id, district):
        try:
            member = handoff.staff_member(scope, requested_by)
        except StaffNotFoundError:
            continue
        if member.role is not None:
            actor = Actor(member.staff_id, member.role, scope, member.district_id or district)
            return require_export(actor, handoff, school_id, with_names)
    if with_names:
        raise NamesNotAllowedError


def require_export(actor: Actor, handoff: Handoff, school_id: str, with_names: bool) -> None:
    """A school admin for their school; a regulator for a school of their district, and never with names."""
    if actor.role is Role.REGULATOR:
        actor.require_district("export_audit", handoff.school(school_id).district_id)
    else:
        actor.require("export_audit", school_id)
    if with_names and actor.role not in (Role.ADMIN,):
        raise NamesNotAllowedError
