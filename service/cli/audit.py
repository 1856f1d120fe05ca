"""`handoff export` and `handoff verify`: tamper-evident audit exports for regulators, and their check."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from aggregates.base import DomainError
from replay.verify import verify_bundle
from service.application.context import operator_context
from service.audit.exports import Exporter
from service.infra.settings import Settings
from service.runtime import opened, signing_key


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
        exporter = Exporter(handoff, url, signing_key(settings))
        schools = list(schools or []) + (exporter.district_schools(district) if district else [])
        if not schools:
            raise typer.BadParameter("give --school (one or more) or --district")
        days = (date.fromisoformat(day_from), date.fromisoformat(day_to))
        try:
            summary = exporter.export(
                operator_context(schools[0]), schools, days, out, reason, requested_by, with_names
            )
        except DomainError as refusal:
            typer.echo(f"refused ({refusal.code}): {refusal.text}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"exported {summary.events} events ({summary.events_in_range} in range) to {out}")
        typer.echo(f"check it with: handoff verify {out}   (or: python3 {out / 'verify.py'} {out})")


def verify(bundle: Annotated[Path, typer.Argument(exists=True, file_okay=False)]) -> None:
    """Check an export bundle: every school's tree, every proof, and every checkpoint's signature."""
    verdict = verify_bundle(bundle)
    typer.echo(verdict.report)
    raise typer.Exit(0 if verdict.ok else 1)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("verify")(verify)
