"""Where the application finds a day's incidents, the registered schools and a school's roster without a stream per
question.

On PostgreSQL the runtime plugs in the views (`service.reads.index.ViewIndex`). Memory and SQLite persistence have
no views (offline work and tests), so the default reads the log: every IncidentOpened, SchoolRegistered or
ChildAddedToRoster."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from eventsourcing.utils import get_topic

from events.incidents import IncidentOpened
from events.roster import ChildAddedToRoster
from events.school import SchoolRegistered


class Index(Protocol):
    def incident_ids(self, school_id: str, day: date) -> list[str]:
        """The ids of the school's incidents of that service day, in the order they were opened."""

    def school_ids(self) -> list[str]:
        """Every registered school, sorted."""

    def roster_child_ids(self, school_id: str) -> set[str]:
        """Every child ever added to the school's roster (left or erased ones too: the roster entry says which)."""


class LogIndex:
    """The answers read from the whole log: fine without views, too slow for a large one."""

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[UUID]) -> None:
        self.recorder, self.mapper = recorder, mapper

    def incident_ids(self, school_id: str, day: date) -> list[str]:
        return [
            e.incident_id
            for e in self._all(IncidentOpened)
            if e.school_id == school_id and e.service_day == day.isoformat()
        ]

    def school_ids(self) -> list[str]:
        return sorted({e.school_id for e in self._all(SchoolRegistered)})

    def roster_child_ids(self, school_id: str) -> set[str]:
        return {e.child_id for e in self._all(ChildAddedToRoster) if e.school_id == school_id}

    def _all(self, kind: type) -> list[Any]:
        found: list[Any] = []
        position = 0
        while page := self.recorder.select_notifications(position + 1, 1000, topics=[get_topic(kind)]):
            found += [self.mapper.to_domain_event(row) for row in page]
            position = page[-1].id
        return found
