"""The event log as the projectors read it: notifications in commit order, decoded on demand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification


class EventLog:
    """An application's recorder and mapper, as one read-only source of events."""

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[Any]) -> None:
        self.recorder = recorder
        self.mapper = mapper

    def page(
        self, after: int, limit: int, stop: int | None = None, topics: Sequence[str] = ()
    ) -> Sequence[Notification]:
        """Up to `limit` notifications with positions after `after` (and at most `stop`), of these topics only."""
        return self.recorder.select_notifications(after + 1, limit, stop=stop, topics=topics)

    def head(self) -> int:
        """The position of the newest event in the store."""
        return self.recorder.max_notification_id() or 0

    def decode(self, notification: Notification) -> Any:
        return self.mapper.to_domain_event(notification)
