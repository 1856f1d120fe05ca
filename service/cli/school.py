"""`handoff school|plan|roster|classes|day|erase|coverage`: the school's set-up and planning from the command line.

The command line acts as an operator (registering a school) or as a school admin of the school it names; every action
is recorded with actor `cli` (or `system` for the registration)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any

import typer

from aggregates.base import DomainError
from aggregates.staff import Role
from service.application.context import Actor, CommandContext, operator_context
from service.application.handoff import Handoff
from service.application.roster_import import read_roster
from service.cli.typed import Reason
from service.infra.settings import Settings
from service.runtime import opened

school_app = typer.Typer(help="Registering a school (operators) and its places.", no_args_is_help=True)
plan_app = typer.Typer(help="The service plan: terms, release batches, sessions.", no_args_is_help=True)
roster_app = typer.Typer(help="The school roster (名册).", no_args_is_help=True)
classes_app = typer.Typer(help="Temporary classes (临时班).", no_args_is_help=True)
day_app = typer.Typer(help="Opening and closing the service day.", no_args_is_help=True)

School = Annotated[str, typer.Option("--school", help="School code")]
Csv = Annotated[str, typer.Option(help="Comma-separated list")]


@contextmanager
def school_admin(
    school_id: str, district_id: str | None = None
) -> Iterator[tuple[Handoff, Callable[[], CommandContext]]]:
    """The application (the school's shard; a new school is placed in `district_id`'s), and command contexts acting
    as an admin of this school; refusals exit with their message."""
    settings = Settings()
    with opened(settings, school_id, district_id) as (handoff, _):
        actor = Actor("cli", Role.ADMIN, school_id, "")
        try:
            yield handoff, lambda: operator_context(school_id, actor)
        except DomainError as refusal:
            typer.echo(f"refused ({refusal.code}): {refusal.text}", err=True)
            for problem in refusal.details.get("problems", []):
                typer.echo(f"  {problem['file']}:{problem['line']}: {problem['problem']}", err=True)
            raise typer.Exit(1) from None


def _echo(answer: Any) -> None:
    typer.echo(json.dumps(answer, indent=2, ensure_ascii=False, default=str))


@school_app.command("register")
def school_register(
    school: School,
    name: Annotated[str, typer.Option(help="The school's name, e.g. 城南实验小学")],
    district: Annotated[str, typer.Option(help="The district's code; its regulators read the school's records")],
    time_zone: Annotated[str, typer.Option(help="IANA time zone: it fixes the service day")] = "Asia/Shanghai",
    service_ends: Annotated[str, typer.Option(help="HH:MM when after-school service ends")] = "17:30",
) -> None:
    """Register a school (operators only: no role registers schools over HTTP); then `staff issue` its first admin."""
    with school_admin(school, district) as (handoff, _):
        handoff.setup.register_school(
            operator_context(school), name, district, time_zone, time.fromisoformat(service_ends)
        )
        typer.echo(f"school {school} registered in district {district} ({time_zone})")


@school_app.command("place")
def school_place(
    school: School,
    code: Annotated[str, typer.Option(help="Place code, e.g. R302")],
    kind: Annotated[str, typer.Option(help="classroom, club_room, playground, gate or release_point")],
    zh: Annotated[str, typer.Option(help="Label in Chinese")],
    en: Annotated[str, typer.Option(help="Label in English")],
) -> None:
    """Add a classroom, a venue, the gate or a release point to the school."""
    with school_admin(school) as (handoff, ctx):
        _echo(handoff.setup.add_place(ctx(), code, kind, zh, en))


@plan_app.command("term")
def plan_term(
    school: School,
    term: Annotated[str, typer.Option()],
    starts: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    ends: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    places: Annotated[int, typer.Option(min=1)],
) -> None:
    """Schedule a term and how many children it can take."""
    with school_admin(school) as (handoff, ctx):
        handoff.setup.schedule_term(ctx(), term, date.fromisoformat(starts), date.fromisoformat(ends), places)
        typer.echo(f"term {term} scheduled")


@plan_app.command("batch")
def plan_batch(
    school: School,
    code: Annotated[str, typer.Option()],
    ends: Annotated[str, typer.Option(help="HH:MM")],
    zh: Annotated[str, typer.Option()],
    en: Annotated[str, typer.Option()],
) -> None:
    """Add a release batch (弹性离校) and its end time."""
    with school_admin(school) as (handoff, ctx):
        handoff.setup.add_release_batch(ctx(), code, zh, en, time.fromisoformat(ends))
        typer.echo(f"release batch {code} added")


@plan_app.command("session")
def plan_session(
    school: School,
    season: Annotated[str, typer.Option(help="summer_autumn or winter_spring")],
    name: Annotated[str, typer.Option()],
    days: Csv,
    starts: Annotated[str, typer.Option(help="HH:MM")],
    ends: Annotated[str, typer.Option(help="HH:MM")],
) -> None:
    """Schedule a session of the service day for a season (两时段)."""
    with school_admin(school) as (handoff, ctx):
        handoff.setup.schedule_session(
            ctx(), season, name, days.split(","), time.fromisoformat(starts), time.fromisoformat(ends)
        )
        typer.echo(f"session {name} scheduled")


@roster_app.command("import")
def roster_import(
    school: School,
    path: Annotated[Path, typer.Argument(exists=True)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the changes; record nothing")] = False,
) -> None:
    """Import a OneRoster 1.1 CSV bundle (folder or .zip) or a simple .csv; a file with any bad row imports nothing.
    Importing again applies the school's records as they are now, a line per change; a OneRoster delta bundle applies
    only the rows it carries."""
    with school_admin(school) as (handoff, ctx):
        _echo(handoff.roster.import_roster(ctx(), read_roster(path, school), dry_run))


@classes_app.command("form")
def classes_form(school: School, term: Annotated[str, typer.Option()], teachers: Csv, venues: Csv) -> None:
    """Form the term's temporary classes from the approved children by the schools' rule."""
    with school_admin(school) as (handoff, ctx):
        _echo(handoff.planning.form_classes(ctx(), term, teachers.split(","), venues.split(",")))


@classes_app.command("move")
def classes_move(
    school: School,
    term: Annotated[str, typer.Option()],
    child: Annotated[str, typer.Option()],
    to: Annotated[str, typer.Option(help="Temporary class code")],
) -> None:
    """Move a child by hand into another temporary class (at most 40 a class)."""
    with school_admin(school) as (handoff, ctx):
        _echo(handoff.planning.move_child(ctx(), term, child, to))


@day_app.command("open")
def day_open(school: School, day: Annotated[str, typer.Option("--date")], duty_leaders: Csv, guards: Csv) -> None:
    """Open the service day with its duty rota: two duty leaders and two guards."""
    with school_admin(school) as (handoff, ctx):
        _echo(handoff.planning.open_day(ctx(), date.fromisoformat(day), duty_leaders.split(","), guards.split(",")))


@day_app.command("close")
def day_close(school: School, day: Annotated[str, typer.Option("--date")]) -> None:
    """Close the service day; refused, naming the children, while any is still in care."""
    with school_admin(school) as (handoff, ctx):
        _echo(handoff.planning.close_day(ctx(), date.fromisoformat(day)))


def erase(school: School, child: Annotated[str, typer.Option()], reason: Reason) -> None:
    """Erase a child's personal data by destroying their key (PIPL); the erasure is recorded."""
    with school_admin(school) as (handoff, ctx):
        _echo(handoff.roster.erase_child(ctx(), child, reason))


def coverage(school: School, term: Annotated[str, typer.Option()]) -> None:
    """The coverage report (愿留尽留): applications against children served, and priority children first."""
    with school_admin(school) as (handoff, _):
        _echo(handoff.planning.coverage_report(Actor("cli", Role.ADMIN, school, ""), school, term))


def register(app: typer.Typer) -> None:
    app.add_typer(school_app, name="school")
    app.add_typer(plan_app, name="plan")
    app.add_typer(roster_app, name="roster")
    app.add_typer(classes_app, name="classes")
    app.add_typer(day_app, name="day")
    app.command("erase")(erase)
    app.command("coverage")(coverage)
