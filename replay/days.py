"""A per-process memo of each school's custody events of a service day, as read from the log.

The log only grows: events are never changed or removed, and positions become visible in order (every save holds
the table's EXCLUSIVE lock through its commit). So the events read from one position up to another stay exactly
what they were, and a later question about the same day reads only what was appended since, or nothing at all when
what was read already reaches past the instant asked about (by more than CLOCK_MARGIN).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from events.custody import CustodyEvent
from projections.log import EventLog
from replay import state
from replay.state import CLOCK_MARGIN, CUSTODY_TOPICS, position_before, stored_as_json

Positioned = list[tuple[int, CustodyEvent]]


class DayEvents:
    """One school's custody events of the log after position `start`, read up to position `read_to`, in log order;
    `latest` is the latest server time of any event examined, which bounds what the rest of the log can hold."""

    def __init__(self, start: int) -> None:
        self.start = self.read_to = start
        self.events: Positioned = []
        self.latest: datetime | None = None
        self.lock = threading.Lock()

    def reaches(self, end: datetime) -> bool:
        """Whether every event after `read_to` is later than `end`: one already read is later than end + margin."""
        return self.latest is not None and self.latest > end + CLOCK_MARGIN

    def read_more(self, log: EventLog, school_id: str, head: int, end: datetime) -> None:
        """Read on from `read_to` towards `head`, until an event later than end + margin (as a scan of the log
        from `start` stops there)."""
        marker = school_id.encode() if stored_as_json(log) else None
        while self.read_to < head:
            page = log.page(self.read_to, state.PAGE, stop=head, topics=CUSTODY_TOPICS)
            for notification in page:
                self.read_to = notification.id
                if marker is not None and marker not in notification.state:  # another school's: not decoded
                    continue
                event: CustodyEvent = log.decode(notification)
                self.latest = event.timestamp if self.latest is None else max(self.latest, event.timestamp)
                if event.school_id == school_id:
                    self.events.append((notification.id, event))
                if self.reaches(end):
                    return
            if len(page) < state.PAGE:
                self.read_to = head
                return


class DayCache:
    """The custody events of the most recently asked school days, up to `max_events` events in all."""

    def __init__(self, max_events: int = 100_000) -> None:
        self.max_events = max_events
        self._days: OrderedDict[tuple[str, datetime], DayEvents] = OrderedDict()
        self._lock = threading.Lock()

    def events(self, log: EventLog, school_id: str, day_start: datetime, end: datetime) -> Positioned:
        """The school's custody events from before `day_start` (by the clock margin) at least up to every event
        with server time at or before `end`, in log order (callers filter by day and time)."""
        head = log.head()
        day = self._day(log, school_id, day_start, head)
        with day.lock:
            if not day.reaches(end):
                day.read_more(log, school_id, head, end)
            found = list(day.events)
        self._evict()
        return found

    def _day(self, log: EventLog, school_id: str, day_start: datetime, head: int) -> DayEvents:
        key = (school_id, day_start)
        with self._lock:
            day = self._days.get(key)
            if day is not None:
                self._days.move_to_end(key)
                return day
        start = position_before(log, day_start, head)
        with self._lock:
            return self._days.setdefault(key, DayEvents(start))

    def _evict(self) -> None:
        with self._lock:
            while len(self._days) > 1 and sum(len(d.events) for d in self._days.values()) > self.max_events:
                self._days.popitem(last=False)
