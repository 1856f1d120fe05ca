"""Policies: reactions to events, run by a follower with a tracked position so that each acts exactly once.

A reaction is an ordinary command whose idempotency key is derived from the event it reacts to: after a crash
between the command and the saved position, the event is seen again and the command answers from its stored
answer, recording nothing twice. Only one follower is active at a time (an advisory lock); another waits."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import psycopg
from eventsourcing.utils import get_topic

from aggregates.base import DomainError
from aggregates.staff import Role
from events.custody import ChildReleased, GuardianArrived, ReleaseRefused
from events.incidents import HeadcountRecorded, IncidentOpened
from events.planning import EmergencyModeEntered
from projections.log import EventLog
from service.application.context import Actor, CommandContext
from service.application.handoff import Handoff
from service.processes import parked
from service.processes.follower import Follower

log = logging.getLogger("handoff.policies")
Connection = psycopg.Connection[Any]

POLICY_LOCK = 7_316_003
DDL = "CREATE TABLE IF NOT EXISTS policy_positions (policy text PRIMARY KEY, position bigint NOT NULL)"
REFUSAL_TOPIC = get_topic(ReleaseRefused)
HEADCOUNT_TOPIC = get_topic(HeadcountRecorded)
RELEASE_TOPIC = get_topic(ChildReleased)
ARRIVAL_TOPIC = get_topic(GuardianArrived)
INCIDENT_TOPIC = get_topic(IncidentOpened)
EMERGENCY_TOPIC = get_topic(EmergencyModeEntered)


def refusal_opens_incident(handoff: Handoff, event: ReleaseRefused) -> None:
    """Refusals for one child and one person are one unauthorised-pickup incident with its attempts (exactly once
    each); once that incident is resolved, the next refusal opens a new one."""
    source = f"ReleaseRefused:{event.originator_id.hex}:{event.originator_version}"
    ctx = _context(handoff, event.school_id, f"policy-{source}", event)
    facts = (event.reason_code, event.stage, source)
    incident_id = _refusal_incident_id(handoff, event)
    handoff.incidents.record_refused_attempt(ctx, incident_id, event.child_id, event.actor_id, facts)


def _refusal_incident_id(handoff: Handoff, event: ReleaseRefused) -> str:
    """The incident of the child's day and this person (hashed: an id in a URL names nobody), not yet resolved."""
    person = hashlib.sha256(f"{event.originator_id.hex}/{event.guardian_id}".encode()).hexdigest()[:24]
    n = 1
    while handoff.incident(event.school_id, f"refusal-{person}-{n}").status == "resolved":
        n += 1
    return f"refusal-{person}-{n}"


def missing_children_open_incident(handoff: Handoff, event: HeadcountRecorded) -> None:
    """A headcount with children missing opens one missing-child incident naming exactly those not already named in
    an open missing-child incident of the day (exactly once)."""
    day = date.fromisoformat(event.service_day)
    covered = handoff.incidents.children_in_open_incidents(event.school_id, day, "missing_child")
    missing = [child_id for child_id in event.missing if child_id not in covered]
    if not missing:
        return
    source = f"HeadcountRecorded:{event.originator_id.hex}:{event.originator_version}"
    ctx = _context(handoff, event.school_id, f"policy-{source}", event)
    summary = f"Headcount at {event.place_code}: {len(event.missing)} of {len(event.expected)} missing"
    incident_id = f"headcount-{event.originator_id.hex}-{event.originator_version}"
    handoff.incidents.open_incident(ctx, "missing_child", missing, [event.actor_id], summary, incident_id, source)


def late_pickup_id(school_id: str, child_id: str, day: date) -> str:
    """The one late-pickup incident of a child's day; hashed, so that the id (in URLs, in the district's view) names
    no child."""
    return "late-" + hashlib.sha256(f"{school_id}/{child_id}/{day.isoformat()}".encode()).hexdigest()[:24]


def sweep_late_pickups(handoff: Handoff, school_id: str, now: datetime) -> list[str]:
    """Open one late-pickup incident for each child still in care past the late-pickup rule's instant."""
    school = handoff.school(school_id)
    day = school.service_day(now)
    try:
        term = school.term_on(day)
    except DomainError:
        return []
    late = [
        c.child_id
        for c in handoff.in_care(school_id, day)
        if _past_batch(handoff, school, c.child_id, term.term_id, now)
    ]
    for child_id in late:
        incident_id = late_pickup_id(school_id, child_id, day)
        ctx = _context(handoff, school_id, f"policy-{incident_id}", None, now)
        handoff.incidents.open_incident(
            ctx,
            "late_pickup",
            [child_id],
            [],
            "Still in care after the release batch ended",
            incident_id,
            f"sweep:{day.isoformat()}",
        )
    return late


def _past_batch(handoff: Handoff, school: Any, child_id: str, term_id: str, now: datetime) -> bool:
    """Whether the child is a late pickup by the one rule (`School.is_late_pickup`)."""
    return school.is_late_pickup(handoff.enrolment(school.school_id, child_id, term_id).release_batch, now)


def release_resolves_late_pickup(handoff: Handoff, event: ChildReleased) -> None:
    """A late-pickup incident resolves itself when the child is released."""
    incident_id = late_pickup_id(event.school_id, event.child_id, date.fromisoformat(event.service_day))
    try:
        incident = handoff.incident(event.school_id, incident_id)
    except DomainError:
        return
    if incident.status == "open":
        ctx = _context(handoff, event.school_id, f"policy-resolve-{incident_id}", event)
        handoff.incidents.resolve_incident(
            ctx, incident_id, f"collected at {event.timestamp.isoformat(timespec='minutes')}"
        )


def announce_arrival(handoff: Handoff, event: GuardianArrived) -> None:
    """Tell the child's guardians that someone arrived to collect the child (the outbox, exactly once)."""
    facts = {"guardian_id": event.guardian_id, "at": event.timestamp.isoformat()}
    message_id = f"arrival-{event.originator_id.hex}-{event.originator_version}"
    _announce(handoff, event, "guardian_arrived", message_id, facts)


def announce_release(handoff: Handoff, event: ChildReleased) -> None:
    """Tell the child's guardians that the child left, and with whom."""
    facts = {
        "guardian_id": event.guardian_id or "",
        "at": event.timestamp.isoformat(),
        "emergency": "yes" if event.emergency else "no",
    }
    _announce(handoff, event, "child_released", f"release-{event.originator_id.hex}-{event.originator_version}", facts)


def announce_incident(handoff: Handoff, event: IncidentOpened) -> None:
    """Tell the guardians of every child named in a new incident."""
    facts = {"incident_id": event.incident_id, "incident_kind": event.kind, "at": event.timestamp.isoformat()}
    for child_id in event.children:
        message_id = f"incident-{event.originator_id.hex}-{child_id}"
        day = date.fromisoformat(event.service_day)
        _announce(handoff, event, "incident_opened", message_id, facts, child_id, day)


def announce_emergency(handoff: Handoff, event: EmergencyModeEntered) -> None:
    """Tell the guardians of every child in care when the school entered emergency mode where to collect them."""
    day = date.fromisoformat(event.service_day)
    facts = {"reunification_point": event.reunification_point, "at": event.timestamp.isoformat()}
    for state in handoff.in_care(event.school_id, day, at=event.timestamp):
        message_id = f"emergency-{event.originator_id.hex}-{event.originator_version}-{state.child_id}"
        _announce(handoff, event, "emergency", message_id, facts, state.child_id, day)


def _announce(
    handoff: Handoff,
    event: Any,
    kind: str,
    message_id: str,
    facts: dict[str, str],
    child_id: str | None = None,
    day: date | None = None,
) -> None:
    about = f"{type(event).__name__}:{event.originator_id.hex}:{event.originator_version}"
    ctx = _context(handoff, event.school_id, f"policy-message-{message_id}", event)
    child = child_id or event.child_id
    service_day = day or date.fromisoformat(event.service_day)
    handoff.outbox.queue_message(ctx, message_id, kind, child, service_day, about, facts)


POLICIES: dict[str, list[Callable[[Handoff, Any], None]]] = {
    REFUSAL_TOPIC: [refusal_opens_incident],
    HEADCOUNT_TOPIC: [missing_children_open_incident],
    RELEASE_TOPIC: [release_resolves_late_pickup, announce_release],
    ARRIVAL_TOPIC: [announce_arrival],
    INCIDENT_TOPIC: [announce_incident],
    EMERGENCY_TOPIC: [announce_emergency],
}
"""The reactions to each event type, in order. Each is idempotent (its key comes from the event), so a reaction
repeated after a crash records nothing twice."""


def _context(handoff: Handoff, school_id: str, key: str, event: Any, at: datetime | None = None) -> CommandContext:
    district = handoff.school(school_id).district_id
    actor = Actor("policy", Role.ADMIN, school_id, district)
    when = event.timestamp if event is not None else (at or handoff.clock())
    return CommandContext(actor, school_id, "policies", when, key, "policy", {"source": key})


class PolicyFollower(Follower):
    """Applies the policies to every new event, in log order, remembering how far it got; a refused reaction is
    parked (see `parked`), never lost in a log line, and never blocks the reactions after it."""

    name = "policies"
    lock = POLICY_LOCK

    def __init__(self, handoff: Handoff, conninfo: str, interval: float = 1.0, sweep_every: float = 60.0) -> None:
        super().__init__(conninfo, interval)
        self.handoff, self.sweep_every = handoff, sweep_every
        self.swept_at = 0.0
        self.events = EventLog(handoff.recorder, handoff.mapper)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(DDL)
            conn.execute(parked.DDL)  # type: ignore[arg-type]
            conn.execute("INSERT INTO policy_positions VALUES (%s, 0) ON CONFLICT DO NOTHING", (self.name,))

    def step(self, conn: psycopg.Connection[Any]) -> None:
        self.run_once(conn)
        self.sweep(conn)

    def run_once(self, conn: psycopg.Connection[Any]) -> int:
        """React to every event after our position; return the new position."""
        row = conn.execute("SELECT position FROM policy_positions WHERE policy = %s", (self.name,)).fetchone()
        position: int = row[0] if row else 0  # the row exists: the constructor made it
        while page := self.events.page(position, 500, self.events.head(), topics=list(POLICIES)):
            for notification in page:
                self._react(conn, notification)
                position = notification.id
                conn.execute("UPDATE policy_positions SET position = %s WHERE policy = %s", (position, self.name))
            if len(page) < 500:
                break
        return position

    def sweep(self, conn: psycopg.Connection[Any], force: bool = False) -> None:
        """The clock-driven policy: late pickups, every `sweep_every` seconds, for every school."""
        if not force and time.monotonic() - self.swept_at < self.sweep_every:
            return
        self.swept_at = time.monotonic()
        now = self.handoff.clock()
        for school_id in self.handoff.school_ids():
            try:
                sweep_late_pickups(self.handoff, school_id, now)
            except DomainError as refusal:
                source = f"sweep:{school_id}:{now.date().isoformat()}"
                self._park(conn, sweep_late_pickups.__name__, source, school_id, refusal)

    def _react(self, conn: psycopg.Connection[Any], notification: Any) -> None:
        event = self.events.decode(notification)
        for policy in POLICIES[notification.topic]:
            try:
                policy(self.handoff, event)
            except DomainError as refusal:  # parked: a policy never blocks the ones after it
                source = f"event {notification.id} ({type(event).__name__})"
                self._park(conn, policy.__name__, source, event.school_id, refusal)

    def _park(self, conn: Connection, reaction: str, source: str, school: str, refusal: DomainError) -> None:
        log.warning("policy %s for %s refused: %s (parked)", reaction, source, refusal.code)
        parked.park(conn, reaction, source, school, refusal)
