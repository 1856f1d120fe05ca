"""Who may do what: the roles allowed for each action, and the words that name an action in a refusal. The one
source of role rules, for the application's role check and for the aggregates that decide by role."""

from __future__ import annotations

from aggregates.staff import Role

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
    "store_photo": frozenset({Role.ADMIN}),
    "plan_day": frozenset({Role.ADMIN, Role.DUTY_LEADER}),
    "import_roster": frozenset({Role.ADMIN}),
    "correct": frozenset({Role.DUTY_LEADER, Role.ADMIN}),
    "record_headcount": frozenset({Role.TEACHER, Role.DUTY_LEADER}),
    "unlock_code_entry": frozenset({Role.DUTY_LEADER}),
    "review_mismatch": frozenset({Role.DUTY_LEADER}),
    "record_duty_round": frozenset({Role.DUTY_LEADER}),
    "manage_emergency": frozenset({Role.DUTY_LEADER}),
    "read_coverage": frozenset({Role.ADMIN}),
    "read_occupancy": frozenset({Role.GATE, Role.TEACHER, Role.DUTY_LEADER, Role.ADMIN}),
    "read_records": frozenset({Role.DUTY_LEADER, Role.ADMIN}),
    "read_district": frozenset({Role.REGULATOR}),
    "read_school_summary": frozenset({Role.ADMIN}),
    "read_disclosures": frozenset({Role.ADMIN}),
    "read_district_disclosures": frozenset({Role.REGULATOR}),
    "read_province": frozenset({Role.PROVINCE_REGULATOR}),
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
    "manage_devices": frozenset({Role.ADMIN}),
    "set_pin": frozenset({Role.GATE, Role.TEACHER, Role.DUTY_LEADER, Role.ADMIN}),
}
"""Which roles may do what: the one list. Every command and query checks it through the actor; the aggregates
that decide by role (emergency mode, duty rounds, the pickup-code unlock) ask `may` instead of naming roles."""

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
    "store_photo": "store a photo of a child or guardian",
    "plan_day": "open and close the service day",
    "import_roster": "import the roster",
    "correct": "correct a mistaken record",
    "record_headcount": "record headcounts",
    "unlock_code_entry": "lift a pickup-code lock",
    "review_mismatch": "review a failed guardian and child confirmation",
    "record_duty_round": "record inspection rounds",
    "manage_emergency": "switch emergency mode",
    "read_coverage": "read the coverage report",
    "read_occupancy": "see who is on site",
    "read_records": "read the audit trail, attendance and supervision records",
    "read_district": "read the district summary",
    "read_school_summary": "read the school's own summary",
    "read_disclosures": "read the school's disclosure log of audit exports",
    "read_district_disclosures": "read the district's disclosure log of audit exports",
    "read_province": "read the province's counts",
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
    "manage_devices": "enrol tablets for sign-in with a PIN",
    "set_pin": "set a sign-in PIN",
}


def may(role: str, action: str) -> bool:
    """Whether a role (as recorded on an event) allows the action."""
    return role in PERMISSIONS[action]
