"""An incident of one school: opened with its kind, children and staff; notes, guardian notifications, escalations
and more people linked; resolved once, with an outcome.

After resolution only notes may be added (a follow-up call, a remark for the record); notifications, escalations,
links and a second resolution are refused, so the outcome stays the last word on what was done."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from aggregates.base import EventMeta, InvalidCommandError, NotFoundError, RuleBrokenError, stamp, stream_id
from events.envelope import EventFields
from events.incidents import (
    GuardianNotified,
    IncidentAttemptRecorded,
    IncidentEscalated,
    IncidentEvent,
    IncidentLinked,
    IncidentNoteAdded,
    IncidentOpened,
    IncidentResolved,
)

KINDS = (
    "missing_child",
    "unauthorised_pickup_attempt",
    "late_pickup",
    "injury",
    "illness",
    "guardian_unreachable",
    "other",
)
WITHOUT_A_CHILD = ("other", "unauthorised_pickup_attempt")
"""Kinds that may name no child: pickup codes guessed at the gate without choosing a child name none."""
CHANNELS = ("phone", "message", "in_person")
ESCALATION_TARGETS = ("duty_leader", "principal", "police", "medical", "district")
"""Roles and bodies an incident goes up to: never a person's id, so exports may show them as written."""


class UnknownIncidentKindError(InvalidCommandError):
    """An incident is one of the kinds the school records."""

    code = "unknown_incident_kind"
    message = "Incident kinds are: " + ", ".join(KINDS) + "."


class IncidentNeedsAChildError(InvalidCommandError):
    """Every incident names at least one child, but one of kind other or a code guessed without a child."""

    code = "incident_needs_a_child"
    message = "Name at least one child involved in this incident."


class IncidentAlreadyOpenedError(RuleBrokenError):
    """An incident id is opened once."""

    code = "incident_already_opened"
    message = "This incident is already open."


class IncidentNotFoundError(NotFoundError):
    """Only an opened incident gets notes, notifications, escalations, links or a resolution."""

    code = "incident_not_found"
    message = "There is no such incident at this school."


class IncidentResolvedError(RuleBrokenError):
    """After resolution only notes may be added."""

    code = "incident_resolved"
    message = "This incident is already resolved: only notes can be added now."


class ChildNotLinkedError(RuleBrokenError):
    """A guardian is notified only about a child linked to the incident."""

    code = "child_not_linked"
    message = "Link this child to the incident before recording that their guardian was told."


class UnknownChannelError(InvalidCommandError):
    """A guardian is told by phone, by message or in person."""

    code = "unknown_notification_channel"
    message = "Tell the guardian by phone, by message or in person."


class UnknownEscalationTargetError(InvalidCommandError):
    """An incident goes up to a known role or body."""

    code = "unknown_escalation_target"
    message = "Escalate to one of: " + ", ".join(ESCALATION_TARGETS) + "."


class AlreadyEscalatedError(RuleBrokenError):
    """An incident goes up to each role or body once."""

    code = "already_escalated"
    message = "This incident is already escalated to {to}."


class NothingToLinkError(InvalidCommandError):
    """A link names at least one child or staff member not yet linked."""

    code = "nothing_new_to_link"
    message = "Everyone named is already linked to this incident."


def incident_stream_id(school_id: str, incident_id: str) -> UUID:
    return stream_id("incident", school_id, incident_id)


@dataclass(frozen=True)
class Notification:
    """One attempt to tell a guardian."""

    child_id: str
    guardian_id: str
    channel: str
    reached: bool


@dataclass(frozen=True)
class Attempt:
    """One refused pickup attempt grouped into an incident."""

    reason_code: str
    stage: str
    at: datetime


@dataclass(frozen=True)
class Incident:
    """One incident: what kind, on which day, who is involved, and where it stands."""

    id: UUID
    version: int
    school_id: str
    incident_id: str
    kind: str = ""
    service_day: date | None = None
    summary: str = ""
    children: tuple[str, ...] = ()
    staff: tuple[str, ...] = ()
    notes: int = 0
    notified: tuple[Notification, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    """Refused pickup attempts grouped here (unauthorised-pickup incidents opened by a refusal)."""
    escalated_to: tuple[str, ...] = ()
    status: str = "not_opened"
    """not_opened, open or resolved."""
    outcome: str | None = None
    source: str | None = None
    opened_at: datetime | None = None
    """Server time of the opening."""

    @classmethod
    def of(cls, school_id: str, incident_id: str) -> Incident:
        return cls(incident_stream_id(school_id, incident_id), 0, school_id, incident_id)

    # Decisions: each checks every rule first, then returns the events to record.

    def open(
        self,
        meta: EventMeta,
        kind: str,
        day: date,
        children: Sequence[str],
        staff: Sequence[str],
        summary: str,
        source: str | None = None,
    ) -> list[IncidentEvent]:
        """Put the incident on record with the children and staff involved."""
        if kind not in KINDS:
            raise UnknownIncidentKindError
        if not children and kind not in WITHOUT_A_CHILD:
            raise IncidentNeedsAChildError
        if self.version:
            raise IncidentAlreadyOpenedError
        return [
            IncidentOpened(
                **self._stamp(meta),
                kind=kind,
                service_day=day.isoformat(),
                children=_unique(children),
                staff=_unique(staff),
                summary=summary,
                source=source,
            )
        ]

    def add_note(self, meta: EventMeta, note: str) -> list[IncidentEvent]:
        """Add a note; also allowed after resolution."""
        self._require_opened()
        return [IncidentNoteAdded(**self._stamp(meta), note=note)]

    def record_attempt(self, meta: EventMeta, reason_code: str, stage: str, source: str) -> list[IncidentEvent]:
        """Group one more refused pickup attempt into this open incident."""
        self._require_open()
        return [IncidentAttemptRecorded(**self._stamp(meta), reason_code=reason_code, stage=stage, source=source)]

    def record_notification(
        self, meta: EventMeta, child_id: str, guardian_id: str, channel: str, reached: bool
    ) -> list[IncidentEvent]:
        """Record that a linked child's guardian was told, or could not be reached."""
        if channel not in CHANNELS:
            raise UnknownChannelError
        self._require_open()
        if child_id not in self.children:
            raise ChildNotLinkedError
        return [
            GuardianNotified(
                **self._stamp(meta), child_id=child_id, guardian_id=guardian_id, channel=channel, reached=reached
            )
        ]

    def escalate(self, meta: EventMeta, to: str, reason: str) -> list[IncidentEvent]:
        """Pass the incident up to a role or body, once each."""
        if to not in ESCALATION_TARGETS:
            raise UnknownEscalationTargetError
        self._require_open()
        if to in self.escalated_to:
            raise AlreadyEscalatedError(to=to)
        return [IncidentEscalated(**self._stamp(meta), to=to, reason=reason)]

    def link(self, meta: EventMeta, children: Sequence[str], staff: Sequence[str]) -> list[IncidentEvent]:
        """Link more children or staff; those already linked are left out of the event."""
        self._require_open()
        new_children = _unique(set(children) - set(self.children))
        new_staff = _unique(set(staff) - set(self.staff))
        if not new_children and not new_staff:
            raise NothingToLinkError
        return [IncidentLinked(**self._stamp(meta), children=new_children, staff=new_staff)]

    def resolve(self, meta: EventMeta, outcome: str) -> list[IncidentEvent]:
        """Close the incident with its outcome, once."""
        self._require_open()
        return [IncidentResolved(**self._stamp(meta), outcome=outcome)]

    def _require_opened(self) -> None:
        if not self.version:
            raise IncidentNotFoundError

    def _require_open(self) -> None:
        self._require_opened()
        if self.status == "resolved":
            raise IncidentResolvedError

    def _stamp(self, meta: EventMeta) -> EventFields[IncidentEvent]:
        return {**stamp(self.id, self.version, meta), "incident_id": self.incident_id}


def _unique(ids: Iterable[str]) -> list[str]:
    return sorted(set(ids))


def evolve(state: Incident, event: IncidentEvent) -> Incident:
    """Apply one event. Never raises, never decides: it runs again on every replay."""
    state = replace(state, version=event.originator_version)
    match event:
        case IncidentOpened():
            return replace(
                state,
                kind=event.kind,
                service_day=date.fromisoformat(event.service_day),
                summary=event.summary,
                children=tuple(event.children),
                staff=tuple(event.staff),
                status="open",
                source=event.source,
                opened_at=event.timestamp,
            )
        case IncidentNoteAdded():
            return replace(state, notes=state.notes + 1)
        case IncidentAttemptRecorded():
            attempt = Attempt(event.reason_code, event.stage, event.timestamp)
            return replace(state, attempts=(*state.attempts, attempt))
        case GuardianNotified():
            told = Notification(event.child_id, event.guardian_id, event.channel, event.reached)
            return replace(state, notified=(*state.notified, told))
        case IncidentEscalated():
            return replace(state, escalated_to=(*state.escalated_to, event.to))
        case IncidentLinked():
            children = tuple(_unique((*state.children, *event.children)))
            return replace(state, children=children, staff=tuple(_unique((*state.staff, *event.staff))))
        case IncidentResolved():
            return replace(state, status="resolved", outcome=event.outcome)
    return state


def project(state: Incident | None, events: Iterable[IncidentEvent]) -> Incident | None:
    """Rebuild the incident from its events (the repository's projector function)."""
    for event in events:
        if state is None:
            state = Incident.of(event.school_id, event.incident_id)
        state = evolve(state, event)
    return state
