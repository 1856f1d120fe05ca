"""Replay for investigators: custody as it stood at an instant, recomputed from the event log, never from views.

Each query checks the caller's role and school first (duty leaders and admins of that school)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from aggregates.incidents import IncidentNotFoundError
from replay import state as replay
from replay.days import DayCache
from replay.incidents import incident_window
from service.application.context import Actor
from service.application.handoff import Handoff
from service.infra.event_log import event_log

DAYS: WeakKeyDictionary[Handoff, DayCache] = WeakKeyDictionary()
"""Per application (so per event store) in this process: the school days' custody events read so far."""


def custody_at(handoff: Handoff, actor: Actor, school_id: str, at: datetime) -> dict[str, Any]:
    """Every child's custody on the service day of `at`, as it stood at that instant."""
    actor.require("replay", school_id)
    school = handoff.school(school_id)
    days = DAYS.setdefault(handoff, DayCache())
    children = replay.custody_as_of(event_log(handoff), school_id, at, school.time_zone, days)
    return {"school_id": school_id, "at": at, "service_day": school.service_day(at), "children": children}


def child_day(handoff: Handoff, actor: Actor, school_id: str, child_id: str, day: date) -> dict[str, Any]:
    """A child's custody events of one service day, from the child's own stream."""
    actor.require("replay", school_id)
    handoff.school(school_id)
    handoff.roster_entry(school_id, child_id)
    events = replay.child_day(event_log(handoff), school_id, child_id, day)
    return {"school_id": school_id, "child_id": child_id, "service_day": day, "events": events}


def window(
    handoff: Handoff, actor: Actor, school_id: str, at: datetime, before: int, after: int, child_id: str | None
) -> dict[str, Any]:
    """The school's custody events from `before` minutes before `at` to `after` minutes after it, both included."""
    actor.require("replay", school_id)
    handoff.school(school_id)
    events = replay.window(event_log(handoff), school_id, at, before, after, child_id)
    start, end = at - timedelta(minutes=before), at + timedelta(minutes=after)
    return {"school_id": school_id, "at": at, "from": start, "to": end, "child_id": child_id, "events": events}


def incident(
    handoff: Handoff, actor: Actor, school_id: str, incident_id: str, before: int, after: int
) -> dict[str, Any]:
    """The window around an incident: its records, its children's custody at opening and their custody chains."""
    actor.require("replay", school_id)
    handoff.school(school_id)
    found = incident_window(event_log(handoff), school_id, incident_id, before, after)
    if found is None:
        raise IncidentNotFoundError
    return found
