"""`handoff export`, `handoff verify` and `handoff key`: tamper-evident audit exports for regulators, their check, and
the signing key that regulators pin."""

from __future__ import annotations

import base64
import json
from argparse import ArgumentTypeError
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from aggregates.base import DomainError
from replay.cosignatures import school_vkey
from replay.verify import verify_bundle
from service.application.context import operator_context
from service.audit.exports import Exporter, require_requester
from service.infra.settings import Settings
from service.infra.signing_keys import load_keys, published, replace_lost, rotate
from service.runtime import opened, signing_keys, witness_client

key_app = typer.Typer(help="The signing key of checkpoints and exports: show, rotate, replace a lost one.")


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
        bool, typer.Option(help="Children's names, not pseudonyms (only when --requested-by is the school's admin)")
    ] = False,
) -> None:
    """Export the audit trail of schools and days as a bundle a regulator can verify alone; the export is recorded."""
    settings = Settings()
    school = schools[0] if schools else None  # with shards, a school of another shard is not found there (refused)
    with opened(settings, school, district) as (handoff, url):
        if url is None:
            raise typer.BadParameter("exports need PostgreSQL")
        try:
            exporter = Exporter(handoff, url, *signing_keys(settings), witness_client(settings))
            schools = list(schools or []) + (exporter.district_schools(district) if district else [])
            if not schools:
                raise typer.BadParameter("give --school (one or more) or --district")
            for school in schools:
                require_requester(handoff, school, requested_by, with_names)
            days = (date.fromisoformat(day_from), date.fromisoformat(day_to))
            summary = exporter.export(
                operator_context(schools[0]), schools, days, out, reason, requested_by, with_names
            )
        except DomainError as refusal:
            typer.echo(f"refused ({refusal.code}): {refusal.text}", err=True)
            raise typer.Exit(1) from None
        fingerprint = published(*signing_keys(settings))["current"]["fingerprint"]
        typer.echo(f"exported {summary.events_in_range} events of the chosen days to {out}")
        witness = witness_client(settings)
        pin = f' --witness-key "{witness.vkey}"' if witness else " --witness-key <the bureau witness's vkey>"
        typer.echo(f'check it with: python3 {out / "verify.py"} {out} --key "{fingerprint}"{pin}')


def verify(
    bundle: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    key: Annotated[
        list[str] | None, typer.Option(help="Expected key: 40-digit fingerprint or base64 (default: this server's)")
    ] = None,
    witness_key: Annotated[
        list[str] | None, typer.Option(help="The bureau witness's vkey (default: HANDOFF_WITNESS_KEY)")
    ] = None,
) -> None:
    """Check an export bundle: every file, tree, proof and signature, against the expected key and witness."""
    configured = witness_client(Settings())
    witnesses = list(witness_key or []) or ([configured.vkey] if configured else [])
    expected = list(key or [])
    if not expected:
        settings = Settings()
        if not settings.signing_key_path.exists():
            raise typer.BadParameter("give --key: this machine has no signing key of its own to compare with")
        own = published(*load_keys(settings.signing_key_path))
        expected = [own["current"]["public_key_base64"]] + [k["public_key_base64"] for k in own["earlier"]]
        typer.echo(f"expected key: this server's own, {own['current']['fingerprint']}")
    try:
        verdict = verify_bundle(bundle, expected, witnesses)
    except ArgumentTypeError as bad:  # not a vkey
        raise typer.BadParameter(f"--witness-key: {bad}") from None
    typer.echo(verdict.report)
    raise typer.Exit(0 if verdict.ok else 1)


@key_app.command("show")
def key_show(as_json: Annotated[bool, typer.Option("--json", help="Everything, as JSON")] = False) -> None:
    """The current key's fingerprint (read it out to regulators), its PEM, and the earlier keys and rotations."""
    keys = published(*signing_keys(Settings()))
    if as_json:
        typer.echo(json.dumps(keys, indent=2, ensure_ascii=False))
        return
    typer.echo(f"fingerprint 指纹: {keys['current']['fingerprint']}")
    typer.echo(f"public key (base64): {keys['current']['public_key_base64']}")
    typer.echo(f"vkey (for the witness): {school_vkey(base64.b64decode(keys['current']['public_key_base64']))}")
    typer.echo(keys["current"]["public_key_pem"], nl=False)
    for earlier in keys["earlier"]:
        typer.echo(f"earlier key: {earlier['fingerprint']}")


@key_app.command("rotate")
def key_rotate() -> None:
    """Make a new signing key, announced in a note the old key signs; the old private key is destroyed."""
    settings = Settings()
    new = rotate(settings.signing_key_path, datetime.now(timezone.utc))
    keys = published(new, load_keys(settings.signing_key_path)[1])
    typer.echo(f"new key, announced by the old one: {keys['current']['fingerprint']}")


@key_app.command("replace-lost")
def key_replace_lost(reason: Annotated[str, typer.Option(help="What happened to the old key (recorded)")]) -> None:
    """Only when the key file is lost for good: a new key that nobody announced. Regulators must pin it anew."""
    settings = Settings()
    new = replace_lost(settings.signing_key_path, datetime.now(timezone.utc), reason)
    keys = published(new, load_keys(settings.signing_key_path)[1])
    typer.echo(f"new key, NOT announced by the lost one: {keys['current']['fingerprint']}")
    typer.echo("Give this fingerprint to every regulator through a channel they trust; bundles signed with it will not")
    typer.echo("verify against the old fingerprint.")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("verify")(verify)
    app.add_typer(key_app, name="key")
