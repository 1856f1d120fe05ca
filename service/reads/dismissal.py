"""The dismissal queue (放学队列): every child in care today whose guardian is at the gate, with who has the child
and where, the guardian's name, whether photos of them are stored, and when they arrived. The gate screen releases
those its adult has; the adult who has a child elsewhere sends them to the release point with one tap. Names are
personal data, for staff only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aggregates import custody
from aggregates.custody import Custody
from aggregates.guardians import Guardians
from aggregates.roster import CHILD_PHOTO, RosterEntry
from events.custody import CustodyEvent, GuardianArrived, Status
from projections import occupancy
from service.application.context import Actor
from service.application.personal_data import ERASED
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
        with self.handoff.states.fresh():  # guardians and roster entries from the cache where they did not change
            waiting = [found for row in rows if (found := self._waiting(school_id, day, row["child_id"]))]
        tokens = [(w.state.child_id, sealed) for w in waiting for sealed in w.sealed()]
        opened = iter(self.handoff.personal.open_many(school_id, tokens))  # the children's keys in one read
        items = [item for w in waiting for item in w.items(opened)]
        items.sort(key=lambda item: (item["arrived_at"], item["guardian_id"], item["child_id"]))
        gates = sorted(code for code, place in self.handoff.school(school_id).places.items() if place.kind == "gate")
        there = self._views().query(
            occupancy.occupancy, _rows(AT_RELEASE_POINTS), school=school_id, day=day, gates=gates
        )
        adults = [row["custodian_id"] for row in there if row["custodian_id"]]
        return {"service_day": day, "release_points": gates, "release_adults": adults, "items": items}

    def _waiting(self, school_id: str, day: date, child_id: str) -> Waiting | None:
        """The child's custody, read from its stream (which the view may trail) in one read, if still in care."""
        recorded = self.handoff.stored(custody.custody_id(school_id, child_id, day), CustodyEvent)
        state = custody.project(None, recorded)
        if state is None or state.status is not Status.IN_CARE:
            return None
        arrivals = {e.guardian_id: e.timestamp for e in recorded if isinstance(e, GuardianArrived)}
        entry = self.handoff.roster_entry(school_id, child_id)
        return Waiting(state, arrivals, self.handoff.guardians(school_id, child_id), entry)


@dataclass(frozen=True)
class Waiting:
    """A child in care with a guardian at the gate: one entry per guardian there."""

    state: Custody
    arrivals: dict[str, datetime]
    guardians: Guardians
    entry: RosterEntry

    def sealed(self) -> list[str]:
        """What must be opened, in order: the child's name, then each arrived guardian's sealed details."""
        found = [self.entry.sealed if self.entry.sealed and not self.entry.erased else ""]
        for guardian_id in self.state.arrived_guardians:
            authorisation = self.guardians.authorisations.get(guardian_id)
            found.append(authorisation.sealed if authorisation is not None and authorisation.sealed else "")
        return [token for token in found if token]

    def items(self, opened: Iterator[dict[str, Any] | None]) -> list[dict[str, Any]]:
        """The entries, taking what `sealed` listed, opened, from `opened` in the same order."""
        child = next(opened) if self.entry.sealed and not self.entry.erased else None
        name = ERASED if self.entry.erased else (child or {}).get("name")
        photos = self.entry.photos
        found = []
        for guardian_id in self.state.arrived_guardians:
            authorisation = self.guardians.authorisations.get(guardian_id)
            details = next(opened) if authorisation is not None and authorisation.sealed else None
            found.append(
                {
                    "child_id": self.state.child_id,
                    "name": name,
                    "custodian_id": self.state.custodian_id,
                    "place_code": self.state.place_code,
                    "guardian_id": guardian_id,
                    "guardian_name": (details or {}).get("name"),
                    "relation": authorisation.relation if authorisation else None,
                    "confirmed": self.state.confirmed_guardian_id == guardian_id,
                    "child_photo": CHILD_PHOTO in photos,
                    "guardian_photo": guardian_id in photos,
                    "arrived_at": self.arrivals.get(guardian_id),
                }
            )
        return found
