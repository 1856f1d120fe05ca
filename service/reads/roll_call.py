"""The class roll call (点名): a temporary class's children expected today, with today's status, so that a teacher
ticks those present and one submit checks them in and marks the others absent (each its own command)."""

from __future__ import annotations

from typing import Any

from aggregates.school import SchoolNotFoundError
from projections import occupancy
from projections.occupancy_queries import IN_RECORDS
from service.application.context import Actor
from service.reads.ui import UiReads, _rows

EXPECTED_IN_CLASS = (
    """
SELECT e.child_id, coalesce(c.status, 'expected') AS status, c.custodian_id, c.place_code
FROM {enrolments} e
LEFT JOIN {children} c ON c.school_id = e.school_id AND c.child_id = e.child_id AND c.service_day = %(day)s
WHERE e.school_id = %(school)s AND e.temporary_class = %(class_code)s AND e.signed AND NOT e.withdrawn
  AND %(day)s BETWEEN e.starts_on AND e.ends_on AND %(weekday)s = ANY(e.days) AND """
    + IN_RECORDS
    + """
ORDER BY e.child_id
"""
)
"""The children of the day's expected list (occupancy_queries.EXPECTED) in this temporary class."""


class PlaceNotAClassError(SchoolNotFoundError):
    """A roll call is taken for a temporary class of the school."""

    code = "class_not_found"
    message = "This school has no temporary class with that code."


class RollCallReads(UiReads):
    """The roll of one temporary class today."""

    def class_roll(self, actor: Actor, school_id: str, class_code: str) -> dict[str, Any]:
        """The class's children expected today (enrolled, agreement signed, today among their days, in the school's
        records), with status."""
        actor.require("read_child_day", school_id)
        place = self.handoff.school(school_id).places.get(class_code)
        if place is None or place.kind != "temporary_class":
            raise PlaceNotAClassError
        day = self._today(school_id)
        params = {"school": school_id, "day": day, "class_code": class_code, "weekday": day.strftime("%a").lower()}
        rows = self._views().query(occupancy.occupancy, _rows(EXPECTED_IN_CLASS), **params)
        names = self.names_of(school_id, [row["child_id"] for row in rows])
        items = [{**row, "name": names[row["child_id"]]} for row in rows]
        return {"service_day": day, "class_code": class_code, "items": items}
