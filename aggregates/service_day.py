"""One school's service day: opened with its duty rota (two duty leaders, two guards), closed only when every
child who came has been released or is covered by an open incident."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from aggregates.base import EventMeta, ForbiddenError, InvalidCommandError, RuleBrokenError, stamp, stream_id
from aggregates.permissions import may
from aggregates.staff import Role
from events.envelope import HandoffEvent
from events.planning import EmergencyModeEntered, EmergencyModeLeft, ServiceDayClosed, ServiceDayOpened


class BadRotaError(InvalidCommandError):
    """Every service day has two duty leaders and two guards."""

    code = "bad_duty_rota"
    message = "A service day needs two different duty leaders and two different guards."


class WrongRoleForDutyError(InvalidCommandError):
    """Duty leaders and guards on the rota hold those roles."""

    code = "wrong_role_for_duty"
    message = "{staff_id} is not a {role}."


class DayAlreadyOpenError(RuleBrokenError):
    """A service day opens once."""

    code = "day_already_open"
    message = "This service day has already been opened (it is {state})."


class DayNotOpenError(RuleBrokenError):
    """Only an open day can be closed."""

    code = "day_not_open"
    message = "This service day is not open."


class OnlyDutyLeaderError(ForbiddenError):
    """Only a duty leader switches emergency mode."""

    code = "only_duty_leader"
    message = "Only a duty leader can switch emergency mode."


class AlreadyInEmergencyError(RuleBrokenError):
    """Emergency mode is entered once."""

    code = "already_in_emergency"
    message = "The school is already in emergency mode."


class NotInEmergencyError(RuleBrokenError):
    """Only emergency mode can be left."""

    code = "not_in_emergency"
    message = "The school is not in emergency mode."


class ChildrenStillInCareError(RuleBrokenError):
    """A day closes only when every child who came has been released or is covered by an open incident."""

    code = "children_still_in_care"
    message = "The day cannot close: still in care and not released: {children}."


@dataclass(frozen=True)
class ServiceDay:
    """One school's service day: its duty rota, and whether it is open or closed."""

    id: UUID
    version: int
    service_day: date
    duty_leaders: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    state: str = "not_open"
    emergency: bool = False
    reunification_point: str | None = None

    @classmethod
    def of(cls, school_id: str, day: date) -> ServiceDay:
        return cls(stream_id("service-day", school_id, day.isoformat()), 0, day)

    def open(
        self, meta: EventMeta, duty_leaders: Sequence[str], guards: Sequence[str], roles: Mapping[str, Role | None]
    ) -> list[HandoffEvent]:
        """Open the day with its rota; `roles` holds the registered role of everyone named on it."""
        for staff_ids, role in ((duty_leaders, Role.DUTY_LEADER), (guards, Role.GATE)):
            for staff_id in staff_ids:
                if roles[staff_id] is not role:
                    raise WrongRoleForDutyError(staff_id=staff_id, role=role.value.replace("_", " "))
        if self.state != "not_open":
            raise DayAlreadyOpenError(state=self.state)
        if not (_two_different(duty_leaders) and _two_different(guards)):
            raise BadRotaError
        return [
            ServiceDayOpened(
                **stamp(self.id, self.version, meta),
                service_day=self.service_day.isoformat(),
                duty_leaders=sorted(duty_leaders),
                guards=sorted(guards),
            )
        ]

    def enter_emergency(self, meta: EventMeta, reunification_point: str, reason: str) -> list[HandoffEvent]:
        """Switch to emergency mode: every child is reunited with an authorised guardian at one point."""
        if not may(meta.actor_role, "manage_emergency"):
            raise OnlyDutyLeaderError
        if self.emergency:
            raise AlreadyInEmergencyError
        return [
            EmergencyModeEntered(
                **stamp(self.id, self.version, meta),
                service_day=self.service_day.isoformat(),
                reunification_point=reunification_point,
                reason=reason,
            )
        ]

    def leave_emergency(self, meta: EventMeta, reason: str) -> list[HandoffEvent]:
        """Leave emergency mode: the normal flow resumes."""
        if not may(meta.actor_role, "manage_emergency"):
            raise OnlyDutyLeaderError
        if not self.emergency:
            raise NotInEmergencyError
        return [
            EmergencyModeLeft(
                **stamp(self.id, self.version, meta), service_day=self.service_day.isoformat(), reason=reason
            )
        ]

    def close(
        self, meta: EventMeta, still_in_care: Iterable[str], in_open_incidents: Collection[str] = ()
    ) -> list[HandoffEvent]:
        """Close, unless a child who came is still in care and not named in an open incident of the day (a missing
        child, a guardian who never came: the incident carries the case on)."""
        if self.state != "open":
            raise DayNotOpenError
        waiting = sorted(child for child in still_in_care if child not in in_open_incidents)
        if waiting:
            raise ChildrenStillInCareError(children=", ".join(waiting))
        return [ServiceDayClosed(**stamp(self.id, self.version, meta), service_day=self.service_day.isoformat())]


def _two_different(staff: Sequence[str]) -> bool:
    return len(staff) == 2 and len(set(staff)) == 2


def evolve(state: ServiceDay, event: HandoffEvent) -> ServiceDay:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    match event:
        case ServiceDayOpened():
            return replace(state, state="open", duty_leaders=tuple(event.duty_leaders), guards=tuple(event.guards))
        case ServiceDayClosed():
            return replace(state, state="closed")
        case EmergencyModeEntered():
            return replace(state, emergency=True, reunification_point=event.reunification_point)
        case EmergencyModeLeft():
            return replace(state, emergency=False, reunification_point=None)
    return state


def project(state: ServiceDay | None, events: Iterable[HandoffEvent]) -> ServiceDay | None:
    for event in events:
        if state is None:
            state = ServiceDay(event.originator_id, 0, date.fromisoformat(getattr(event, "service_day", "1970-01-01")))
        state = evolve(state, event)
    return state
