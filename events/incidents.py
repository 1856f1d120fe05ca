"""Incidents: a missing child, an unauthorised pickup attempt, a late pickup, an injury, an illness, a guardian who
cannot be reached. Ids only: never names or phone numbers. Notes, summaries, reasons and outcomes are free text
written by staff, who must not put names, phone numbers or other personal data in them: exports copy free text as
written."""

from __future__ import annotations

from events.envelope import HandoffEvent


class IncidentEvent(HandoffEvent):
    """An event in one incident's stream."""

    incident_id: str
    """The incident's id at its school (a uuid4 hex unless the device chose one)."""


class IncidentOpened(IncidentEvent):
    """Something went wrong and is now on record, with the children and staff involved."""

    kind: str
    """missing_child, unauthorised_pickup_attempt, late_pickup, injury, illness, guardian_unreachable or other."""
    service_day: str
    """The school's local date (ISO) the incident happened on."""
    children: list[str]
    """Children involved (roster references); empty only for kind other."""
    staff: list[str]
    """Staff involved (staff references)."""
    summary: str
    """What happened, in a few words (free text: no personal data)."""
    source: str | None
    """The record that opened it when a policy did, e.g. ReleaseRefused:<stream hex>:<version>; None when staff did."""


class IncidentAttemptRecorded(IncidentEvent):
    """A refused pickup attempt, one of those grouped into the unauthorised-pickup incident of one child and one
    person on a day (the first comes with the opening): regulators count attempts, the board shows one incident."""

    reason_code: str
    """Why the pickup was refused, e.g. pickup_code_wrong, guardian_not_authorised, person_flagged."""
    stage: str
    """Where it was refused: arrival, confirmation or release."""
    source: str
    """The refusal: ReleaseRefused:<custody stream hex>:<version>."""


class IncidentNoteAdded(IncidentEvent):
    """A member of staff added a note (free text: no personal data)."""

    note: str


class GuardianNotified(IncidentEvent):
    """Staff tried to tell a child's guardian about the incident, and did or did not reach them."""

    child_id: str
    """The linked child the notification was about."""
    guardian_id: str
    """The guardian on the child's list who was contacted."""
    channel: str
    """phone, message or in_person."""
    reached: bool
    """True when the guardian was reached; False records an attempt that failed."""


class IncidentEscalated(IncidentEvent):
    """The incident was passed up: to the duty leader, the principal, the police, medical help or the district."""

    to: str
    """Who it was escalated to, as a role or body (never a person's id)."""
    reason: str


class IncidentResolved(IncidentEvent):
    """The incident is closed with its outcome; afterwards only notes may be added."""

    outcome: str
    """How it ended (free text: no personal data)."""


class IncidentLinked(IncidentEvent):
    """More children or staff were found to be involved."""

    children: list[str]
    """Children newly linked (none already linked)."""
    staff: list[str]
    """Staff newly linked (none already linked)."""


class HeadcountRecorded(HandoffEvent):
    """A teacher counted the children at a place (清点人数) against the children in care there.

    The worked example of an event whose shape changed. Version 1 held only `expected` and `present`; version 2
    also stores `missing` and `extra`, so that what the policies and exports read is what was decided then.
    `upcast_v1_v2` derives them for a version-1 row. Rows stored before `class_version` existed carry no version
    and are read as version 1: they already hold both lists, which the upcaster keeps as stored."""

    class_version = 2

    place_code: str
    service_day: str
    expected: list[str]
    """Children in care at the place, by the record, when the count was taken."""
    present: list[str]
    missing: list[str]
    """Expected but not counted: each becomes part of a missing-child incident."""
    extra: list[str]
    """Counted but not expected at this place."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        """Version 1 had no `missing` and `extra`: derive them from `expected` and `present`, in their order."""
        expected, present = list(state["expected"]), list(state["present"])  # type: ignore[call-overload]
        state.setdefault("missing", [c for c in expected if c not in present])
        state.setdefault("extra", [c for c in present if c not in expected])
