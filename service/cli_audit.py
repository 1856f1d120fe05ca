"""`handoff export` and `handoff verify`: tamper-evident audit exports for regulators, and their check."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from aggregates.base import stream_id
from aggregates.school import SchoolNotFoundError
from events.audit import AuditExportMade
from replay.checkpoints import public_key_pem
from replay.export import ExportSummary, export_bundle
from replay.verify import verify_bundle
from service.app import Handoff
from service.checkpoints import Checkpointer, all_checkpoints, checkpoints
from service.runtime import event_log, opened, signing_key
from service.seed import context
from service.settings import Settings


def export(
    schools: Annotated[list[str] | None, typer.Option("--school", help="School code (repeat for several)")] = None,
    district: Annotated[str | None, typer.Option(help="Every school of this district")] = None,
    *,
    day_from: Annotated[str, typer.Option("--from", help="First service day, YYYY-MM-DD")],
    day_to: Annotated[str, typer.Option("--to", help="Last service day, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="A new or empty folder for the bundle")],
    reason: Annotated[str, typer.Option(help="Why the export is made (recorded)")],
    requested_by: Annotated[str, typer.Option(help="Who asked for it, e.g. the inspector's reference")] = "admin",
    with_names: Annotated[
        bool, typer.Option(help="Children's names, not pseudonyms (only for a role allowed)")
    ] = False,
) -> None:
    """Export the audit trail of schools and days as a bundle a regulator can verify alone; the export is recorded."""
    settings = Settings()
    with opened(settings) as (handoff, url):
        if url is None:
            raise typer.BadParameter("exports need PostgreSQL")
        key = signing_key(settings)
        Checkpointer(url, event_log(handoff), key, handoff.clock).run_once()
        schools = list(schools or []) + (_schools_of(handoff, url, district) if district else [])
        if not schools:
            raise typer.BadParameter("give --school (one or more) or --district")
        names = (lambda school, child, token: handoff.personal.open(school, child, token)) if with_names else None
        summary = export_bundle(
            event_log(handoff),
            out,
            schools,
            date.fromisoformat(day_from),
            date.fromisoformat(day_to),
            checkpoints(url, schools),
            public_key_pem(key),
            pseudonymise=not with_names,
            names=names,
        )
        _record(handoff, summary, schools, day_from, day_to, requested_by, reason)
        typer.echo(f"exported {summary.events} events ({summary.events_in_range} in range) to {out}")
        typer.echo(f"check it with: handoff verify {out}   (or: python3 {out / 'verify.py'} {out})")


def _schools_of(handoff: Handoff, url: str, district: str) -> list[str]:
    """The schools of a district among those whose trees are checkpointed."""
    found = []
    for tree in sorted({c.school_id for c in all_checkpoints(url)}):
        try:
            if handoff.school(tree).district_id == district:
                found.append(tree)
        except SchoolNotFoundError:
            continue
    return found


def _record(
    handoff: Handoff,
    summary: ExportSummary,
    schools: list[str],
    day_from: str,
    day_to: str,
    requested_by: str,
    reason: str,
) -> None:
    """Record the disclosure on a stream of its own, in the first school's name."""
    meta = context(schools[0]).meta(handoff.clock())
    roots = {school: {"tree_size": summary.tree_sizes[school], "root": summary.roots[school]} for school in schools}
    handoff.save(
        AuditExportMade(
            **meta.fields(),
            originator_id=stream_id("export", str(uuid.uuid4())),
            originator_version=1,
            schools=list(schools),
            day_from=day_from,
            day_to=day_to,
            pseudonymised=summary.pseudonymised,
            requested_by=requested_by,
            reason=reason,
            roots=roots,
        )
    )


def verify(bundle: Annotated[Path, typer.Argument(exists=True, file_okay=False)]) -> None:
    """Check an export bundle: every school's tree, every proof, and every checkpoint's signature."""
    verdict = verify_bundle(bundle)
    typer.echo(verdict.report)
    raise typer.Exit(0 if verdict.ok else 1)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("verify")(verify)
