"""`handoff incident|headcount|duty-round|emergency|messages|notify`: incidents and the duty leader's work from the
command line.

Each command acts as the staff member named by `--as` (their role, as registered at the school), or, without it,
as the school admin `cli`. The same role checks apply as over HTTP; a refusal exits with status 1 and its plain
words. Free text (summaries, notes, findings) must hold no names or phone numbers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import typer

from aggregates.base import DomainError
from aggregates.incidents import KINDS
from aggregates.staff import Role, StaffNotFoundError
from projections import outbox
from service.application.context import Actor, CommandContext, operator_context
from service.application.handoff import Handoff
from service.cli.typed import Reason, Text
from service.infra.event_log import event_log
from service.infra.settings import Settings
from service.processes.notifier import Notifier, adapter_from
from service.reads.queries import Views
from service.reads.readside import ReadSide
from service.runtime import opened

incident_app = typer.Typer(help="Incidents (事件): open, note, notify, escalate, link, resolve, list, show.")
emergency_app = typer.Typer(help="Emergency mode (应急预案) and its live roll.", no_args_is_help=True)
confirmation_app = typer.Typer(help="Mutual confirmations (互相确认): review a failed one.", no_args_is_help=True)

School = Annotated[str, typer.Option("--school", help="School code")]
As = Annotated[str | None, typer.Option("--as", help="Act as this staff member (default: the admin 'cli')")]
Csv = Annotated[str, typer.Option(help="Comma-separated references")]
IncidentId = Annotated[str, typer.Argument(help="The incident's id")]
Acting = tuple[Handoff, Callable[[], CommandContext], Actor, str | None]
Day = Annotated[str | None, typer.Option(help="Service day YYYY-MM-DD (default: today at the school)")]


def register(app: typer.Typer) -> None:
    app.add_typer(incident_app, name="incident")
    app.add_typer(emergency_app, name="emergency")
    app.add_typer(confirmation_app, name="confirmation")
    app.command("headcount")(headcount)
    app.command("duty-round")(duty_round)
    app.command("messages")(messages)
    app.command("notify")(notify)


@contextmanager
def acting(school_id: str, staff_id: str | None) -> Iterator[Acting]:
    """The application, command contexts for the acting staff member, the actor, and the database URL if any;
    refusals exit with their plain words."""
    with opened(Settings(), school_id) as (handoff, url):
        try:
            actor = _actor(handoff, school_id, staff_id)
            yield handoff, lambda: operator_context(school_id, actor), actor, url
        except DomainError as refusal:
            typer.echo(f"refused ({refusal.code}): {refusal.text}", err=True)
            raise typer.Exit(1) from None


def _actor(handoff: Handoff, school_id: str, staff_id: str | None) -> Actor:
    district = handoff.school(school_id).district_id
    if staff_id is None:
        return Actor("cli", Role.ADMIN, school_id, district)
    member = handoff.staff_member(school_id, staff_id)
    if member.role is None:  # a staff stream starts with the registration, so this holds for any stored member
        raise StaffNotFoundError(staff_id=staff_id)
    return Actor(staff_id, member.role, school_id, district)


def _echo(answer: Any) -> None:
    typer.echo(json.dumps(answer, indent=2, ensure_ascii=False, default=str))


def _refs(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _day(handoff: Handoff, school_id: str, text: str | None) -> date:
    return date.fromisoformat(text) if text else handoff.school(school_id).service_day(handoff.clock())


@incident_app.command("open")
def incident_open(
    school: School,
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(KINDS)}")],
    summary: Text,
    children: Csv = "",
    staff: Csv = "",
    incident_id: Annotated[str | None, typer.Option("--id", help="Choose the id (default: a new one)")] = None,
    as_staff: As = None,
) -> None:
    """Open an incident on today's service day, naming the children and staff involved."""
    with acting(school, as_staff) as (handoff, ctx, _, _):
        _echo(handoff.incidents.open_incident(ctx(), kind, _refs(children), _refs(staff), summary, incident_id))


@incident_app.command("note")
def incident_note(school: School, incident: IncidentId, note: Text, as_staff: As = None) -> None:
    """Add a note to an incident (also after it was resolved)."""
    with acting(school, as_staff) as (handoff, ctx, _, _):
        _echo(handoff.incidents.add_incident_note(ctx(), incident, note))


@incident_app.command("notified")
def incident_notified(
    school: School,
    incident: IncidentId,
    child: Annotated[str, typer.Option()],
    guardian: Annotated[str, typer.Option()],
    channel: Annotated[str, typer.Option(help="phone, message or in_person")] = "phone",
    reached: Annotated[bool, typer.Option("--reached/--not-reached")] = True,
    as_staff: As = None,
) -> None:
    """Record that a linked child's guardian was told, or could not be reached."""
    with acting(school, as_staff) as (handoff, ctx, _, _):
        _echo(handoff.incidents.record_notification(ctx(), incident, child, guardian, channel, reached))


@incident_app.command("escalate")
def incident_escalate(
    school: School,
    incident: IncidentId,
    to: Annotated[str, typer.Option(help="duty_leader, principal, police, medical or district")],
    reason: Reason,
    as_staff: As = None,
) -> None:
    """Pass the incident up."""
    with acting(school, as_staff) as (handoff, ctx, _, _):
        _echo(handoff.incidents.escalate_incident(ctx(), incident, to, reason))


@incident_app.command("link")
def incident_link(
    school: School, incident: IncidentId, children: Csv = "", staff: Csv = "", as_staff: As = None
) -> None:
    """Link more children or staff to the incident."""
    with acting(school, as_staff) as (handoff, ctx, _, _):
        _echo(handoff.incidents.link_to_incident(ctx(), incident, _refs(children), _refs(staff)))


@incident_app.command("resolve")
def incident_resolve(school: School, incident: IncidentId, outcome: Text, as_staff: As = None) -> None:
    """Resolve the incident with its outcome (duty leaders and admins)."""
    with acting(school, as_staff) as (handoff, ctx, _, _):
        _echo(handoff.incidents.resolve_incident(ctx(), incident, outcome))


@incident_app.command("list")
def incident_list(school: School, day: Day = None, as_staff: As = None) -> None:
    """The day's incidents, open and resolved."""
    with acting(school, as_staff) as (handoff, _, actor, _):
        _echo(handoff.incidents.incidents_on(actor, school, _day(handoff, school, day)))


@incident_app.command("show")
def incident_show(school: School, incident: IncidentId, as_staff: As = None) -> None:
    """The incident with its timeline, joined with its children's custody records of the day."""
    with acting(school, as_staff) as (handoff, _, actor, _):
        _echo(handoff.incidents.incident_timeline(actor, school, incident))


def headcount(
    school: School,
    place: Annotated[str, typer.Option(help="The place counted, e.g. a temporary class")],
    present: Csv,
    as_staff: As = None,
) -> None:
    """Record a headcount (清点人数); a missing child opens an incident."""
    with acting(school, as_staff) as (handoff, ctx, _, _):
        _echo(handoff.headcounts.record_headcount(ctx(), place, _refs(present)))


def duty_round(
    school: School,
    place: Annotated[str, typer.Option()],
    findings: Text,
    all_well: Annotated[bool, typer.Option("--all-well/--not-all-well")] = True,
    as_staff: As = None,
) -> None:
    """Record an inspection round (值班巡查) by a duty leader on today's rota."""
    with acting(school, as_staff) as (handoff, ctx, _, _):
        _echo(handoff.headcounts.record_duty_round(ctx(), place, findings, all_well))


@emergency_app.command("enter")
def emergency_enter(
    school: School,
    point: Annotated[str, typer.Option(help="The reunification point (a place code)")],
    reason: Reason,
    as_staff: As = None,
) -> None:
    """Switch the school into emergency mode (duty leaders)."""
    with acting(school, as_staff) as (handoff, ctx, _, _):
        _echo(handoff.emergency.enter_emergency(ctx(), point, reason))


@emergency_app.command("leave")
def emergency_leave(school: School, reason: Reason, as_staff: As = None) -> None:
    """Leave emergency mode: the normal flow resumes (duty leaders)."""
    with acting(school, as_staff) as (handoff, ctx, _, _):
        _echo(handoff.emergency.leave_emergency(ctx(), reason))


@emergency_app.command("roll")
def emergency_roll(school: School, as_staff: As = None) -> None:
    """Every child on site and their custodian, now."""
    with acting(school, as_staff) as (handoff, _, actor, _):
        _echo(handoff.emergency.emergency_roll(actor, school))


def messages(
    school: School,
    day: Day = None,
    status: Annotated[str | None, typer.Option(help="queued, failing or delivered")] = None,
    as_staff: As = None,
) -> None:
    """Messages to guardians (家长通知) of a day and how their delivery went (needs PostgreSQL)."""
    with acting(school, as_staff) as (handoff, _, actor, url), _read_side(handoff, url) as read:
        views, on = Views(handoff, read), _day(handoff, school, day)
        _echo(views.rows(actor, "read_messages", school, outbox.outbox, outbox.listing, on, status=status))


def notify() -> None:
    """Deliver every message that is due, once, through the configured adapter (HANDOFF_NOTIFIER)."""
    settings = Settings()
    adapter = adapter_from(settings.notifier, settings.webhook_url, settings.webhook_secret)
    if adapter is None:
        raise typer.BadParameter("HANDOFF_NOTIFIER is off")
    with opened(settings) as (handoff, url), _read_side(handoff, url) as read:
        _echo(Notifier(handoff, read, adapter, str(url)).deliver_due(limit=10_000))


@contextmanager
def _read_side(handoff: Handoff, url: str | None) -> Iterator[ReadSide]:
    if url is None:
        raise typer.BadParameter("the outbox view needs PostgreSQL")
    read = ReadSide(url, event_log(handoff), handoff.clock)
    try:
        yield read
    finally:
        read.close()


@confirmation_app.command("review")
def confirmation_review(
    school: School,
    child: Annotated[str, typer.Option(help="The child's number")],
    guardian: Annotated[str, typer.Option(help="The guardian whose confirmation with the child failed")],
    reason: Reason,
    as_staff: As = None,
) -> None:
    """A duty leader reviews a failed mutual confirmation; the guardian may then confirm again."""
    with acting(school, as_staff) as (handoff, ctx, _, _):
        _echo(handoff.care.review_mismatch(ctx(), child, guardian, reason))
