"""Dismissal at the gate: a pickup code alone names one guardian, who is registered at once for every one of their
children in care today (siblings go together). The identity-document path stays on the child's own card.

A code alone is checked against every child in care, so it goes through the gate guard like the per-child path: a
wrong code is recorded and counted for the device and the school, and once a limit is reached further codes from there
are held back (an identity-document check still works). Otherwise it would be an unlimited guessing oracle."""

from __future__ import annotations

import json
from typing import Any

from aggregates import custody
from aggregates.base import EventMeta, RuleBrokenError
from aggregates.custody import Custody, PickupCodeLockedError
from aggregates.gate_guard import HELD_BACK_MESSAGES
from aggregates.guardians import Guardians
from aggregates.staff import CUSTODIAN_ROLES
from events.gate_guard import GateLimitReached
from service.application.area import Area
from service.application.context import CommandContext
from service.application.views import custody_view

UNKNOWN_CODE = (
    "No guardian of a child in care today has this pickup code. Check the code with the guardian, or find the "
    "child and check the guardian's identity document."
)
"""The refusal of a code nobody holds: recorded and counted as a wrong pickup code."""


class PickupCodeSharedError(RuleBrokenError):
    """A code held by more than one guardian names nobody: the gate must choose the child and the guardian."""

    code = "pickup_code_shared"
    message = (
        "More than one guardian has this pickup code. Find the child and choose the guardian instead; the school "
        "admin should give this guardian a code of their own."
    )


Match = tuple[Custody, Guardians, str, str]
STAFF_REGISTERED = "events.staff:StaffMemberRegistered"


class DismissalCommands(Area):
    """The code-only guardian registration."""

    def register_arrival_by_code(self, ctx: CommandContext, pickup_code: str) -> dict[str, Any]:
        """Register the one guardian whose pickup code this is, for every child of theirs in care today."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            day = self.app.school(ctx.school_id).service_day(meta.timestamp)
            guard = self.app.gate_guard(ctx.school_id, day)
            if held := guard.check(meta, "pickup_code", "", ""):
                return held, refused(held[0].reason_code, HELD_BACK_MESSAGES[held[0].reason_code])
            matches = self._code_holders(ctx.school_id, self.app.in_care(ctx.school_id, day), pickup_code)
            holders = {guardian_id for _, _, guardian_id, _ in matches}
            if not holders:
                counted = guard.count(meta, "pickup_code", "", "")
                reached.extend(e for e in counted if isinstance(e, GateLimitReached))
                return counted, refused("pickup_code_unknown", UNKNOWN_CODE)
            if len(holders) > 1:
                raise PickupCodeSharedError
            recorded, children = [], []
            for state, found, guardian_id, code_hash in matches:
                events, result = self._arrival_of(meta, state, found, guardian_id, code_hash)
                recorded += events
                after = custody_view(_folded(state, events))
                children.append({"child_id": state.child_id, "result": result, "custody": after})
            response = {"outcome": "recorded", "refusal": None, "guardian_id": holders.pop(), "children": children}
            return recorded, response

        reached: list[GateLimitReached] = []
        answer = self.app.command(ctx, "register_arrival", decided)
        for limit in reached:
            self.app.care.gate_limit_incident(ctx, None, limit)
        return answer

    def custodians_of(self, school_id: str) -> list[str]:
        """The school's staff who may hold a child (gate, teachers, duty leaders), read from the log, sorted."""
        roles, position = {}, 0
        while page := self.app.recorder.select_notifications(position + 1, 1000, topics=[STAFF_REGISTERED]):
            for row in page:
                found = json.loads(row.state)
                if found["school_id"] == school_id:
                    roles[found["staff_id"]] = found["role"]
            position = page[-1].id
        return sorted(staff_id for staff_id, role in roles.items() if role in {r.value for r in CUSTODIAN_ROLES})

    def _code_holders(self, school_id: str, states: list[Custody], code: str) -> list[Match]:
        """Every (child, guardian) pair of the children in care whose pickup code this is."""
        found: list[Match] = []
        for state in states:
            guardians = self.app.guardians(school_id, state.child_id)
            for guardian_id in sorted(guardians.authorisations):
                code_hash = self.app.pickup_code_hash(school_id, state.child_id, guardian_id, code)
                if guardians.pickup_code_matches(guardian_id, code_hash):
                    found.append((state, guardians, guardian_id, code_hash))
        return found

    @staticmethod
    def _arrival_of(
        meta: EventMeta, state: Custody, found: Guardians, guardian_id: str, code_hash: str
    ) -> tuple[list[Any], str]:
        """One child's arrival record, and what happened: arrived, already there, locked, or refused."""
        if guardian_id in state.arrived_guardians:
            return [], "already_arrived"
        try:
            events = state.register_arrival(meta, guardian_id, found, "pickup_code", code_hash)
        except PickupCodeLockedError:  # that child's lock stands: the gate checks the identity document for them
            return [], "pickup_code_locked"
        refused = any(type(e).__name__ == "ReleaseRefused" for e in events)
        return events, "refused" if refused else "arrived"


def refused(code: str, message: str) -> dict[str, Any]:
    """The answer to a code that registered nobody: what was refused, in words the gate understands."""
    return {"outcome": "refused", "refusal": {"code": code, "message": message}, "guardian_id": None, "children": []}


def _folded(state: Custody, events: list[Any]) -> Custody:
    for event in events:
        state = custody.evolve(state, event)
    return state
