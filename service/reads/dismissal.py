"""The dismissal queue (放学队列): every child in care today whose guardian is at the gate, with who has the child
and where, the guardian's name, whether photos of them are stored, and when they arrived. The gate screen releases
those its adult has; the adult who has a child elsewhere sends them to the release point with one tap. Names are
personal data, for staff only."""

from __future__ import annotations

from typing import Any

from aggregates.custody import Status
from aggregates.roster import CHILD_PHOTO
from events.custody import GuardianArrived
from projections import occupancy
from service.application.context import Actor
from service.reads.ui import UiReads, _rows

AT_THE_GATE = """
SELECT child_id, custodian_id, place_code FROM {children}
WHERE school_id = %(school)s AND service_day = %(day)s AND status = 'in_care' AND guardian_arrived
ORDER BY child_id
"""

AT_RELEASE_POINTS = """
SELECT custodian_id, count(*) AS n FROM {children}
WHERE school_id = %(school)s AND service_day = %(day)s AND status = 'in_care' AND place_code = ANY(%(gates)s)
GROUP BY custodian_id ORDER BY n DESC, custodian_id
"""


class DismissalReads(UiReads):
    """The dismissal queue, read for one school's staff."""

    def dismissal_queue(self, actor: Actor, school_id: str) -> dict[str, Any]:
        """Children whose guardian is at the gate and who are still in care, oldest arrival first."""
        actor.require("read_child_day", school_id)
        day = self._today(school_id)
        rows = self._views().query(occupancy.occupancy, _rows(AT_THE_GATE), school=school_id, day=day)
        items = [item for row in rows for item in self._waiting(school_id, day, row)]
        items.sort(key=lambda item: (item["arrived_at"], item["guardian_id"], item["child_id"]))
        gates = sorted(code for code, place in self.handoff.school(school_id).places.items() if place.kind == "gate")
        there = self._views().query(
            occupancy.occupancy, _rows(AT_RELEASE_POINTS), school=school_id, day=day, gates=gates
        )
        adults = [row["custodian_id"] for row in there if row["custodian_id"]]
        return {"service_day": day, "release_points": gates, "release_adults": adults, "items": items}

    def _waiting(self, school_id: str, day: Any, row: dict[str, Any]) -> list[dict[str, Any]]:
        """One entry per guardian at the gate for this child (read from the streams, which the view may trail)."""
        state = self.handoff.custody(school_id, row["child_id"], day)
        if state.status is not Status.IN_CARE:
            return []
        arrivals = {
            e.guardian_id: e.timestamp for e in self.handoff.events.get(state.id) if isinstance(e, GuardianArrived)
        }
        guardians = self.handoff.guardians(school_id, state.child_id)
        name = self.name_of(school_id, state.child_id)
        photos = self.handoff.roster_entry(school_id, state.child_id).photos
        found = []
        for guardian_id in state.arrived_guardians:
            authorisation = guardians.authorisations.get(guardian_id)
            opened = None
            if authorisation is not None and authorisation.sealed:
                opened = self.handoff.personal.open(school_id, state.child_id, authorisation.sealed)
            found.append(
                {
                    "child_id": state.child_id,
                    "name": name,
                    "custodian_id": state.custodian_id,
                    "place_code": state.place_code,
                    "guardian_id": guardian_id,
                    "guardian_name": (opened or {}).get("name"),
                    "relation": authorisation.relation if authorisation else None,
                    "confirmed": state.confirmed_guardian_id == guardian_id,
                    "child_photo": CHILD_PHOTO in photos,
                    "guardian_photo": guardian_id in photos,
                    "arrived_at": arrivals.get(guardian_id),
                }
            )
        return found
