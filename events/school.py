"""A school: its district, time zone and the places where children can be in care."""

from __future__ import annotations

from events.envelope import HandoffEvent


class SchoolRegistered(HandoffEvent):
    """A school joined Handoff."""

    name: str
    district_id: str
    time_zone: str
    """IANA time zone that fixes the school's service day, e.g. Asia/Shanghai."""
    service_ends_at: str
    """Local time (HH:MM:SS) when after-school service ends; a child still in care after it is a late pickup."""


class PlaceAdded(HandoffEvent):
    """A temporary class, room or venue where children can be in care."""

    place_code: str
    kind: str
    """temporary_class, classroom, club_room, playground, gate or release_point."""
    label_zh: str
    label_en: str


class TermScheduled(HandoffEvent):
    """A term of after-school service: its dates, and how many children the school can take."""

    term_id: str
    starts_on: str
    ends_on: str
    places: int


class ReleaseBatchAdded(HandoffEvent):
    """A release batch (弹性离校): children of this batch are collected by its end time."""

    batch_code: str
    label_zh: str
    label_en: str
    ends_at: str
    """Local time (HH:MM:SS)."""


class SessionScheduled(HandoffEvent):
    """A session of the service day for a season, e.g. homework 15:40-16:30 in autumn (两时段)."""

    season: str
    """summer_autumn or winter_spring."""
    name: str
    weekdays: list[str]
    starts_at: str
    ends_at: str
