"""The day's children as a gate tablet keeps them on the device, so that a child's card still opens after a reload
without network: ids, codes, statuses, classes and places only. Names, phone numbers and priority categories are never
in this answer (the tablet shows names only while online), so nothing personal is in the device's storage."""

from __future__ import annotations

from typing import Any

from projections import occupancy
from service.application.context import Actor
from service.reads.ui import UiReads, _rows

DAY_CHILDREN = """
SELECT child_id FROM {enrolments}
WHERE school_id = %(school)s AND signed AND NOT withdrawn AND %(day)s BETWEEN starts_on AND ends_on
  AND %(weekday)s = ANY(days)
UNION
SELECT child_id FROM {children} WHERE school_id = %(school)s AND service_day = %(day)s
ORDER BY child_id
"""


class DayCardsReads(UiReads):
    """Today's gate cards without names."""

    def day_cards(self, actor: Actor, school_id: str) -> dict[str, Any]:
        """Every child expected today or in a custody day today, each as a gate card without any name."""
        actor.require("read_child_day", school_id)
        day = self._today(school_id)
        params = {"school": school_id, "day": day, "weekday": day.strftime("%a").lower()}
        rows = self._views().query(occupancy.occupancy, _rows(DAY_CHILDREN), **params)
        cards = [self.card_of(school_id, row["child_id"], day, named=False) for row in rows]
        return {"service_day": day, "items": cards}
