"""`handoff replay state|child|window|incident`: custody as it stood at an instant, recomputed from the event log.

The command line acts as an admin of the school it names."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from aggregates.base import DomainError
from aggregates.staff import Role
from replay.offline import NoStoredEventsError, bundle_events
from service.application.context import Actor
from service.application.handoff import Handoff
from service.infra.settings import Settings
from service.reads import replay as replay_queries
from service.runtime import opened

replay_app = typer.Typer(help="Replay custody from the event log, as it stood at an instant.", no_args_is_help=True)

School = Annotated[str, typer.Option("--school", help="School code")]
At = Annotated[str, typer.Option("--at", help="ISO 8601 instant with its offset, e.g. 2026-11-30T16:45:00+08:00")]
Minutes = Annotated[int, typer.Option(min=0, max=240, help="Minutes")]


Bundle = Annotated[
    Path | None, typer.Option("--bundle", help="Replay offline from an export bundle instead of the database")
]


def run(school: str, query: Callable[[Handoff, Actor], dict[str, Any]], bundle: Path | None = None) -> None:
    """Run one replay query as an admin of the school and print its answer as JSON; refusals exit with their words."""
    with _application(bundle, school) as handoff:
        try:
            answer = query(handoff, Actor("cli", Role.ADMIN, school, ""))
        except DomainError as refusal:
            typer.echo(f"refused ({refusal.code}): {refusal.text}", err=True)
            raise typer.Exit(1) from None
    typer.echo(json.dumps(answer, indent=2, ensure_ascii=False, default=lambda value: value.isoformat()))


@contextmanager
def _application(bundle: Path | None, school: str) -> Iterator[Handoff]:
    """The school's database, or an in-memory store loaded with the bundle's events (no server needed)."""
    settings = Settings()
    if bundle is not None:
        offline = Handoff({"PERSISTENCE_MODULE": "eventsourcing.popo"}, secret_key=settings.secret_key)
        try:
            offline.recorder.insert_events(bundle_events(bundle))
        except NoStoredEventsError as error:
            raise typer.BadParameter(f"{error}; ask the school for a named export to replay offline") from None
        yield offline
        return
    with opened(settings, school) as (handoff, _):
        yield handoff


def instant(text: str) -> datetime:
    """An ISO 8601 instant; one without an offset is refused rather than guessed."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 date and time: {text}", param_hint="--at") from None
    if at.tzinfo is None:
        raise typer.BadParameter("give the offset too, e.g. +08:00", param_hint="--at")
    return at


@replay_app.command("state")
def state(school: School, at: At, bundle: Bundle = None) -> None:
    """Every child's custody on that service day, as it stood at the instant."""
    moment = instant(at)
    run(school, lambda handoff, actor: replay_queries.custody_at(handoff, actor, school, moment), bundle)


@replay_app.command("child")
def child(
    school: School,
    child_id: Annotated[str, typer.Option("--child", help="Child's roster number")],
    day: Annotated[datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="Service day, YYYY-MM-DD")],
    bundle: Bundle = None,
) -> None:
    """A child's custody events of one service day, in order."""
    run(school, lambda handoff, actor: replay_queries.child_day(handoff, actor, school, child_id, day.date()), bundle)


@replay_app.command("window")
def window(
    school: School,
    at: At,
    before: Minutes = 15,
    after: Minutes = 15,
    child_id: Annotated[str | None, typer.Option("--child", help="Only this child")] = None,
    bundle: Bundle = None,
) -> None:
    """The school's custody events from --before minutes before the instant to --after minutes after it."""
    moment = instant(at)
    run(
        school,
        lambda handoff, actor: replay_queries.window(handoff, actor, school, moment, before, after, child_id),
        bundle,
    )


@replay_app.command("incident")
def incident(
    school: School,
    incident_id: Annotated[str, typer.Argument(help="The incident's id")],
    before: Minutes = 30,
    after: Minutes = 30,
    bundle: Bundle = None,
) -> None:
    """The window around an incident: its records, each child's custody when it opened, and their custody chains."""
    run(
        school,
        lambda handoff, actor: replay_queries.incident(handoff, actor, school, incident_id, before, after),
        bundle,
    )
