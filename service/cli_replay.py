"""`handoff replay state|child|window`: custody as it stood at an instant, recomputed from the event log.

The command line acts as an admin of the school it names."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer

from aggregates.base import DomainError
from aggregates.staff import Role
from service import replay_queries
from service.app import Handoff
from service.context import Actor
from service.runtime import build_handoff, database_url
from service.settings import Settings

replay_app = typer.Typer(help="Replay custody from the event log, as it stood at an instant.", no_args_is_help=True)

School = Annotated[str, typer.Option("--school", help="School code")]
At = Annotated[str, typer.Option("--at", help="ISO 8601 instant with its offset, e.g. 2026-11-30T16:45:00+08:00")]
Minutes = Annotated[int, typer.Option(min=0, max=240, help="Minutes")]


def run(school: str, query: Callable[[Handoff, Actor], dict[str, Any]]) -> None:
    """Run one replay query as an admin of the school and print its answer as JSON; refusals exit with their words."""
    settings = Settings()
    with database_url(settings) as url:
        handoff = build_handoff(settings, url)
        try:
            answer = query(handoff, Actor("cli", Role.ADMIN, school, ""))
        except DomainError as refusal:
            typer.echo(f"refused ({refusal.code}): {refusal.text}", err=True)
            raise typer.Exit(1) from None
        finally:
            handoff.close()
    typer.echo(json.dumps(answer, indent=2, ensure_ascii=False, default=lambda value: value.isoformat()))


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
def state(school: School, at: At) -> None:
    """Every child's custody on that service day, as it stood at the instant."""
    moment = instant(at)
    run(school, lambda handoff, actor: replay_queries.custody_at(handoff, actor, school, moment))


@replay_app.command("child")
def child(
    school: School,
    child_id: Annotated[str, typer.Option("--child", help="Child's roster number")],
    day: Annotated[datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="Service day, YYYY-MM-DD")],
) -> None:
    """A child's custody events of one service day, in order."""
    run(school, lambda handoff, actor: replay_queries.child_day(handoff, actor, school, child_id, day.date()))


@replay_app.command("window")
def window(
    school: School,
    at: At,
    before: Minutes = 15,
    after: Minutes = 15,
    child_id: Annotated[str | None, typer.Option("--child", help="Only this child")] = None,
) -> None:
    """The school's custody events from --before minutes before the instant to --after minutes after it."""
    moment = instant(at)
    run(school, lambda handoff, actor: replay_queries.window(handoff, actor, school, moment, before, after, child_id))
