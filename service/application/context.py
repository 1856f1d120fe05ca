"""Who is acting and from where: the actor from the token, and the metadata of one command."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aggregates.base import EventMeta, ForbiddenError
from aggregates.staff import Role


class WrongRoleError(ForbiddenError):
    """The actor's role does not allow this action."""

    code = "role_not_allowed"
    message = "Your role ({role}) is not allowed to {action}."


class WrongSchoolError(ForbiddenError):
    """Staff act only for their own school; regulators only within their district."""

    code = "other_school"
    message = "You can only act for your own school."


PERMISSIONS: dict[str, frozenset[Role]] = {
    "check_in": frozenset({Role.TEACHER, Role.DUTY_LEADER}),
    "transfer": frozenset({Role.TEACHER, Role.DUTY_LEADER, Role.GATE}),
    "register_arrival": frozenset({Role.GATE, Role.TEACHER, Role.DUTY_LEADER}),
    "confirm": frozenset({Role.TEACHER, Role.DUTY_LEADER, Role.GATE}),
    "release": frozenset({Role.TEACHER, Role.DUTY_LEADER, Role.GATE}),
    "mark_absent": frozenset({Role.TEACHER, Role.DUTY_LEADER, Role.ADMIN}),
    "read_child_day": frozenset({Role.GATE, Role.TEACHER, Role.DUTY_LEADER, Role.ADMIN}),
    "manage_guardians": frozenset({Role.ADMIN}),
    "apply_for_care": frozenset({Role.TEACHER, Role.ADMIN}),
    "review_by_class": frozenset({Role.TEACHER, Role.ADMIN}),
    "review_by_school": frozenset({Role.ADMIN}),
    "arrange": frozenset({Role.ADMIN}),
    "sign_agreement": frozenset({Role.ADMIN}),
    "withdraw": frozenset({Role.TEACHER, Role.ADMIN}),
    "read_enrolment": frozenset({Role.TEACHER, Role.DUTY_LEADER, Role.ADMIN}),
    "erase_child": frozenset({Role.ADMIN}),
    "plan_day": frozenset({Role.ADMIN, Role.DUTY_LEADER}),
    "import_roster": frozenset({Role.ADMIN}),
    "correct": frozenset({Role.DUTY_LEADER, Role.ADMIN}),
    "record_headcount": frozenset({Role.TEACHER, Role.DUTY_LEADER}),
    "unlock_code_entry": frozenset({Role.DUTY_LEADER}),
    "record_duty_round": frozenset({Role.DUTY_LEADER}),
    "manage_emergency": frozenset({Role.DUTY_LEADER}),
    "read_coverage": frozenset({Role.ADMIN}),
    "read_occupancy": frozenset({Role.GATE, Role.TEACHER, Role.DUTY_LEADER, Role.ADMIN}),
    "read_records": frozenset({Role.DUTY_LEADER, Role.ADMIN}),
    "read_district": frozenset({Role.REGULATOR}),
    "replay": frozenset({Role.DUTY_LEADER, Role.ADMIN}),
    # Gate staff open incidents and work on them (an unauthorised pickup attempt starts at the gate), but neither
    # resolve them nor read them back.
    "manage_incidents": frozenset({Role.TEACHER, Role.DUTY_LEADER, Role.ADMIN, Role.GATE}),
    "resolve_incident": frozenset({Role.DUTY_LEADER, Role.ADMIN}),
    "read_incidents": frozenset({Role.TEACHER, Role.DUTY_LEADER, Role.ADMIN}),
    # The outbox is filled by policies and emptied by the notifier, both acting as the system (with the admin
    # role); no member of staff queues or delivers a message by hand, and no route lets them.
    "queue_messages": frozenset({Role.ADMIN}),
    "deliver_messages": frozenset({Role.ADMIN}),
    "read_messages": frozenset({Role.DUTY_LEADER, Role.ADMIN}),
    # An audit export: a school admin for their school, a regulator for the schools of their district.
    "export_audit": frozenset({Role.ADMIN, Role.REGULATOR}),
    "export_district": frozenset({Role.REGULATOR}),
    # Setting a school up: an admin of that school (the operator's command line acts as one, see operator_context).
    "register_school": frozenset({Role.ADMIN}),
    "set_up_school": frozenset({Role.ADMIN}),
    "add_child": frozenset({Role.ADMIN}),
    "manage_staff": frozenset({Role.ADMIN}),
}
"""Which roles may do what. Every service method checks it; routes never do."""

ACTION_WORDS = {
    "check_in": "check children in",
    "transfer": "transfer children",
    "register_arrival": "register guardians at the gate",
    "confirm": "record the guardian and child confirmation",
    "release": "release children",
    "mark_absent": "mark children absent",
    "read_child_day": "see a child's day",
    "manage_guardians": "change who may collect a child",
    "apply_for_care": "record applications for after-school care",
    "review_by_class": "review applications for the class",
    "review_by_school": "approve applications for the school",
    "arrange": "arrange children into temporary classes",
    "sign_agreement": "record safety agreements",
    "withdraw": "withdraw children from after-school care",
    "read_enrolment": "see enrolments",
    "erase_child": "erase a child's personal data",
    "plan_day": "open and close the service day",
    "import_roster": "import the roster",
    "correct": "correct a mistaken record",
    "record_headcount": "record headcounts",
    "unlock_code_entry": "lift a pickup-code lock",
    "record_duty_round": "record inspection rounds",
    "manage_emergency": "switch emergency mode",
    "read_coverage": "read the coverage report",
    "read_occupancy": "see who is on site",
    "read_records": "read the audit trail, attendance and supervision records",
    "read_district": "read the district summary",
    "replay": "replay custody as it stood at an earlier moment",
    "manage_incidents": "record incidents",
    "resolve_incident": "resolve incidents",
    "read_incidents": "see incidents",
    "queue_messages": "queue messages to guardians",
    "deliver_messages": "record the delivery of messages to guardians",
    "read_messages": "see the messages to guardians and how their delivery went",
    "export_audit": "export the audit trail",
    "export_district": "export the audit trail of a whole district",
    "register_school": "register a school",
    "set_up_school": "set the school up (places, terms, release batches, sessions)",
    "add_child": "add children to the roster",
    "manage_staff": "register staff and issue or revoke their tokens",
}


@dataclass(frozen=True)
class Actor:
    """The authenticated staff member, as their token says."""

    staff_id: str
    role: Role
    scope_id: str
    """The school; for a regulator, the district."""
    district_id: str

    def require(self, action: str, school_id: str) -> None:
        """Refuse unless this actor's role allows the action, for their own school."""
        if self.role not in PERMISSIONS[action]:
            raise WrongRoleError(role=self.role.value, action=ACTION_WORDS[action])
        if self.scope_id != school_id:
            raise WrongSchoolError

    def require_district(self, action: str, district_id: str) -> None:
        """Refuse unless the role allows the action for this district."""
        if self.role not in PERMISSIONS[action]:
            raise WrongRoleError(role=self.role.value, action=ACTION_WORDS[action])
        if self.district_id != district_id:
            raise WrongSchoolError("You can only read your own district.")


def system_actor(scope_id: str) -> Actor:
    """The operator at the command line, or a policy: the system, acting as an admin of one school (or district)."""
    return Actor(staff_id="system", role=Role.ADMIN, scope_id=scope_id, district_id="")


@dataclass(frozen=True)
class CommandContext:
    """One command as the client sent it: who, from which device, with which key and body."""

    actor: Actor
    school_id: str
    device_id: str
    device_time: datetime
    idempotency_key: str
    operation: str
    body: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        """Same key with a different operation, actor or body is a different request."""
        canonical = json.dumps(
            [self.operation, self.actor.staff_id, self.body], sort_keys=True, separators=(",", ":"), default=str
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def meta(self, now: datetime) -> EventMeta:
        return EventMeta(
            school_id=self.school_id,
            actor_id=self.actor.staff_id,
            actor_role=self.actor.role.value,
            device_id=self.device_id,
            idempotency_key=self.idempotency_key,
            device_time=self.device_time,
            timestamp=now,
        )


def operator_context(school_id: str, actor: Actor | None = None) -> CommandContext:
    """A command context for set-up work run from the command line (the system, unless an actor is given)."""
    now = datetime.now(timezone.utc)
    return CommandContext(actor or system_actor(school_id), school_id, "cli", now, f"cli-{uuid.uuid4()}", "cli", {})
