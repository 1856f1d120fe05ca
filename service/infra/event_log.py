"""The event log of an application, read in order of its notification ids (positions)."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application

from projections.log import EventLog


def event_log(app: Application[Any]) -> EventLog:
    """The application's log, through its own recorder and mapper."""
    return EventLog(app.recorder, app.mapper)
