"""The Handoff application: its methods are the commands (load, decide, save, return)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from functools import reduce
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, StoredEvent

from aggregates import custody, gate_guard, guardians, roster, school, staff
from aggregates import enrolment as enrolment_rules
from aggregates import incidents as incident_rules
from aggregates import service_day as day_rules
from aggregates import temporary_class as class_rules
from aggregates import term_applicants as term_rules
from aggregates.base import DomainError, EventMeta, InvalidCommandError, RuleBrokenError, stream_id
from aggregates.custody import Custody
from aggregates.enrolment import Enrolment
from aggregates.gate_guard import GateGuard
from aggregates.guardians import Guardians
from aggregates.incidents import Incident
from aggregates.roster import ChildNotFoundError, RosterEntry
from aggregates.school import School, SchoolNotFoundError
from aggregates.service_day import ServiceDay
from aggregates.staff import StaffMember, StaffNotFoundError
from aggregates.temporary_class import TemporaryClass
from aggregates.term_applicants import TermApplicants
from events.custody import CustodyEvent, Status
from events.envelope import HandoffEvent
from events.idempotency import CommandAnswered
from service.application import answers
from service.application.answers import ANSWER_VERSION
from service.application.area import Decided
from service.application.care import CareCommands
from service.application.context import CommandContext
from service.application.dismissal import DismissalCommands
from service.application.emergency import EmergencyCommands
from service.application.enrolments import EnrolmentCommands
from service.application.guardian_list import GuardianListCommands
from service.application.headcounts import HeadcountCommands
from service.application.incidents import IncidentCommands
from service.application.index import Index, LogIndex
from service.application.moved_topics import register_moved_topics
from service.application.outbox import OutboxCommands
from service.application.personal_data import KeyStore, MemoryKeyStore, PersonalData
from service.application.photos import PhotoCommands
from service.application.planning import PlanningCommands
from service.application.roster import RosterCommands
from service.application.setup import SetupCommands
from service.application.signin import SignInCommands
from service.application.staff import StaffCommands
from service.application.states import States
from service.application.views import custody_view

register_moved_topics()

STATE_CACHE_SIZE = 20_000
"""Stream states kept per process (STATE_CACHE_SIZE in the environment; 0 turns the cache off)."""


class ConcurrentChangeError(RuleBrokenError):
    """Another device changed the same record at the same moment; this command was not recorded."""

    code = "concurrent_change"
    message = "Someone else just changed this record on another device. Check the current state and try again."


class IdempotencyKeyReusedError(InvalidCommandError):
    """An idempotency key names one request only."""

    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for a different request."


E = TypeVar("E", bound=HandoffEvent)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Handoff(Application[UUID]):
    """Load, command and record over the event store; the commands live in areas (handoff.care.check_in(...))."""

    name = "Handoff"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        secret_key: str,
        clock: Callable[[], datetime] = utc_now,
        keys: KeyStore | None = None,
    ):
        super().__init__(env)
        self.secret_key = secret_key.encode()
        self.clock = clock
        self.personal = PersonalData(keys or MemoryKeyStore())
        self.index: Index = LogIndex(self.recorder, self.mapper)
        """Where the day's incidents and the schools are found: the views once the runtime plugs them in."""
        self.states = States(self.events, self.recorder, int(self.env.get("STATE_CACHE_SIZE") or STATE_CACHE_SIZE))
        self.setup = SetupCommands(self)
        self.staff = StaffCommands(self)
        self.roster = RosterCommands(self)
        self.guardian_list = GuardianListCommands(self)
        self.enrolments = EnrolmentCommands(self)
        self.planning = PlanningCommands(self)
        self.care = CareCommands(self)
        self.dismissal = DismissalCommands(self)
        self.headcounts = HeadcountCommands(self)
        self.incidents = IncidentCommands(self)
        self.emergency = EmergencyCommands(self)
        self.outbox = OutboxCommands(self)
        self.signin = SignInCommands(self)
        self.photos = PhotoCommands(self)

    def close(self) -> None:
        """Close the event store's connections and the key store's."""
        super().close()
        self.personal.keys.close()

    # Loading streams

    def school(self, school_id: str) -> School:
        return self.load_existing(school.school_id_for(school_id), school.project, SchoolNotFoundError)

    def school_ids(self) -> list[str]:
        """Every registered school, sorted."""
        return self.index.school_ids()

    def staff_member(self, scope_id: str, staff_id: str) -> StaffMember:
        found = self.load(staff.staff_stream_id(scope_id, staff_id), staff.project)
        if found is None:
            raise StaffNotFoundError(staff_id=staff_id)
        return found

    def roster_entry(self, school_id: str, child_id: str) -> RosterEntry:
        return self.load_existing(roster.roster_entry_id(school_id, child_id), roster.project, ChildNotFoundError)

    def gate_guard(self, school_id: str, service_day: date) -> GateGuard:
        """Today's counts and limits of failed pickup checks at the school's gate."""
        found = self.load(gate_guard.gate_guard_id(school_id, service_day), gate_guard.project)
        return found or GateGuard.opened(school_id, service_day)

    def guardians(self, school_id: str, child_id: str) -> Guardians:
        found = self.load(guardians.guardians_id(school_id, child_id), guardians.project)
        return found or Guardians.empty(school_id, child_id)

    def enrolment(self, school_id: str, child_id: str, term_id: str) -> Enrolment:
        found = self.load(enrolment_rules.enrolment_id(school_id, child_id, term_id), enrolment_rules.project)
        return found or Enrolment.none(school_id, child_id, term_id)

    def custody(self, school_id: str, child_id: str, day: date) -> Custody:
        found = self.load(custody.custody_id(school_id, child_id, day), custody.project, read_through=True)
        return found or Custody.expected(school_id, child_id, day)

    def term_applicants(self, school_id: str, term_id: str) -> TermApplicants:
        found = self.load(TermApplicants.of(school_id, term_id).id, term_rules.project)
        return found or TermApplicants.of(school_id, term_id)

    def temporary_class(self, school_id: str, term_id: str, class_code: str) -> TemporaryClass:
        found = self.load(TemporaryClass.of(school_id, term_id, class_code).id, class_rules.project)
        return found or TemporaryClass.of(school_id, term_id, class_code)

    def service_day_state(self, school_id: str, day: date) -> ServiceDay:
        return self.load(ServiceDay.of(school_id, day).id, day_rules.project) or ServiceDay.of(school_id, day)

    def in_care(self, school_id: str, day: date, at: datetime | None = None) -> list[Custody]:
        """Every child in care on that service day, now or as it stood at the server instant `at`, from the custody
        streams of the term's applicants."""
        term = self.school(school_id).term_on(day)
        children = self.term_applicants(school_id, term.term_id).applicants
        if at is None:
            states = [self.custody(school_id, child, day) for child in children]
        else:
            states = [self._custody_as_of(school_id, child, day, at) for child in children]
        return [state for state in states if state.status is Status.IN_CARE]

    def _custody_as_of(self, school_id: str, child_id: str, day: date, at: datetime) -> Custody:
        recorded = self.stored(custody.custody_id(school_id, child_id, day), CustodyEvent)
        folded = [event for event in recorded if event.timestamp <= at]
        return reduce(custody.evolve, folded, Custody.expected(school_id, child_id, day))

    def incident(self, school_id: str, incident_id: str) -> Incident:
        found = self.load(incident_rules.incident_stream_id(school_id, incident_id), incident_rules.project)
        return found or Incident.of(school_id, incident_id)

    def require_people(self, school_id: str, children: Sequence[str], staff: Sequence[str]) -> None:
        for child_id in children:
            self.roster_entry(school_id, child_id)
        for staff_id in staff:
            self.staff_member(school_id, staff_id)

    def pickup_code_hash(self, school_id: str, child_id: str, guardian_id: str, code: str) -> str:
        """Keyed hash of a pickup code: without the server's secret key, short codes cannot be guessed offline."""
        message = "/".join((school_id, child_id, guardian_id, code)).encode()
        return hmac.new(self.secret_key, message, hashlib.sha256).hexdigest()

    def stored(self, stream: UUID, kind: type[E], *, desc: bool = False, limit: int | None = None) -> list[E]:
        """A stream's events, as the kind of events that stream holds (the library's store types them as its
        protocol; every event this application maps is a HandoffEvent)."""
        return cast(list[E], list(self.events.get(stream, desc=desc, limit=limit)))

    def load(self, stream: UUID, projector: Callable[..., Any], read_through: bool = False) -> Any:
        """A stream's state now (None if it has no events): within a command, from this process's cached state if
        its stream has not changed since; otherwise from the cached state and the events after it. The contended
        streams (custody) are always read."""
        return self.states.load(stream, projector, read_through)

    def load_existing(self, stream: UUID, projector: Callable[..., Any], missing: type[DomainError]) -> Any:
        found = self.load(stream, projector)
        if found is None:
            raise missing
        return found

    # Saving, exactly once per idempotency key

    def command(
        self,
        ctx: CommandContext,
        action: str,
        decide: Callable[[EventMeta], Decided],
        reread: Callable[[], Custody] | None = None,
    ) -> dict[str, Any]:
        """Check the role, answer a retried key from its stored answer, else decide, then record."""
        ctx.actor.require(action, ctx.school_id)
        with self.states.fresh(first_of=answer_id(ctx)) as stored:  # states as the log stands now, read only where
            answered = self._answer_for(ctx, stored)  # their streams changed; the key's answer in the same read
            if answered is not None:
                return answered
            meta = ctx.meta(self.clock())
            try:
                recorded, response = decide(meta)
            except DomainError:  # a concurrent retry of this very request may have just committed: its answer stands
                answered = self._answer_for(ctx)
                if answered is not None:
                    return answered
                raise
        return self.record(ctx, meta, recorded, response, reread)

    def record(
        self,
        ctx: CommandContext,
        meta: EventMeta,
        recorded: Sequence[HandoffEvent],
        response: dict[str, Any],
        reread: Callable[[], Custody] | None = None,
    ) -> dict[str, Any]:
        """Save the events with the answer under the idempotency key, in one transaction.

        A conflict is first re-read: the key's answer may already be stored, by a concurrent retry or by our own
        commit whose acknowledgement was lost with the connection (an ambiguous commit). Only a change by someone
        else is answered 409. A command that changes nothing records nothing, not even its answer."""
        response = self._as_stored(response)
        if not recorded:
            return {**response, "replayed": False}
        answer = CommandAnswered(
            **meta.fields(),
            originator_id=answer_id(ctx),
            originator_version=1,
            request_fingerprint=ctx.fingerprint,
            status_code=200,
            response=response,
            response_version=ANSWER_VERSION,
        )
        try:
            self.save(*recorded, answer)
        except IntegrityError:
            answered = self._answer_for(ctx)
            if answered is not None:
                return answered
            current = custody_view(reread()) if reread else None
            raise ConcurrentChangeError(current=current) from None
        return {**response, "replayed": False}

    def _as_stored(self, response: dict[str, Any]) -> dict[str, Any]:
        """The answer as the log gives it back to a retry (a status enum as its text), so both get the same one."""
        transcoder = self.mapper.transcoder
        stored: dict[str, Any] = transcoder.decode(transcoder.encode(response))
        return stored

    def _answer_for(self, ctx: CommandContext, stored: list[StoredEvent] | None = None) -> dict[str, Any] | None:
        """The stored answer of the command's idempotency key (already read: `stored`), if any."""
        if stored is None:
            found = self.stored(answer_id(ctx), CommandAnswered, limit=1)
        else:
            found = [cast(CommandAnswered, self.mapper.to_domain_event(event)) for event in stored]
        for answer in found:
            if answer.request_fingerprint != ctx.fingerprint:
                raise IdempotencyKeyReusedError
            return {**answers.current(answer.response, answer.response_version), "replayed": True}
        return None


def answer_id(ctx: CommandContext) -> UUID:
    return stream_id("answer", ctx.school_id, ctx.idempotency_key)
