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
    """temporary_class, classroom, club_room, playground or gate."""
    label_zh: str
    label_en: str
