"""The incidents of a day, the registered schools and a school's roster, from the views plus the events the views
have not reached.

A view may lag the log by a few events; the day's closing must still see an incident opened a moment ago. So each
answer is the view's rows, read after its position, and then the log from that position on: only the tail, a few
events, never the whole log (the whole log only before the view is first built)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from eventsourcing.utils import get_topic

from events.incidents import IncidentOpened
from events.roster import ChildAddedToRoster
from events.school import SchoolRegistered
from projections import district, incidents, occupancy
from projections.base import ReadModel
from service.reads.readside import ReadSide, ViewsNotReadyError

PAGE = 1_000


class ViewIndex:
    """What the application asks of its `index` (see `service.application.index`), answered from the views."""

    def __init__(self, read: ReadSide) -> None:
        self.read = read

    def incident_ids(self, school_id: str, day: date) -> list[str]:
        position, ids = self._query(incidents.incidents, incidents.of_day, school_id, day)
        for event in self._after(position, IncidentOpened):
            if event.school_id == school_id and event.service_day == day.isoformat() and event.incident_id not in ids:
                ids.append(event.incident_id)
        return ids

    def school_ids(self) -> list[str]:
        position, found = self._query(district.district, district.schools)
        return sorted(set(found) | {event.school_id for event in self._after(position, SchoolRegistered)})

    def roster_child_ids(self, school_id: str) -> set[str]:
        position, found = self._query(occupancy.occupancy, occupancy.roster_of, school_id)
        return set(found) | {e.child_id for e in self._after(position, ChildAddedToRoster) if e.school_id == school_id}

    def _query(self, model: ReadModel, read: Callable[..., tuple[int, list[str]]], *args: Any) -> tuple[int, list[str]]:
        try:
            result: tuple[int, list[str]] = self.read.query(model, read, *args)
            return result
        except ViewsNotReadyError:  # not built yet: everything comes from the log
            return 0, []

    def _after(self, position: int, kind: type) -> Iterator[Any]:
        events, topics = self.read.events, [get_topic(kind)]
        while page := events.page(position, PAGE, topics=topics):
            yield from (events.decode(notification) for notification in page)
            position = page[-1].id
