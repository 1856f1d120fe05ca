"""Plain JSON shapes of custody state and events for responses: ids and times, never stored objects."""

from __future__ import annotations

from typing import Any

from aggregates.custody import Custody
from events.envelope import HandoffEvent

ENVELOPE = (
    "originator_id",
    "originator_version",
    "timestamp",
    "device_time",
    "school_id",
    "actor_id",
    "actor_role",
    "device_id",
    "idempotency_key",
)


def custody_view(state: Custody) -> dict[str, Any]:
    return {
        "school_id": state.school_id,
        "child_id": state.child_id,
        "service_day": state.service_day.isoformat(),
        "status": state.status.value,
        "custodian_id": state.custodian_id,
        "place_code": state.place_code,
        "arrived_guardians": sorted(state.arrived_guardians),
        "confirmed_guardian_id": state.confirmed_guardian_id,
        "released_to": state.released_to,
        "self_released": state.self_released,
        "version": state.version,
        "corrected": sorted(state.corrected),
    }


def event_view(event: HandoffEvent) -> dict[str, Any]:
    """One history entry: what happened, who did it, from which device, by server and device clocks."""
    details = {k: v for k, v in vars(event).items() if k not in ENVELOPE and k not in ("child_id", "service_day")}
    return {
        "type": type(event).__name__,
        "version": event.originator_version,
        "server_time": event.timestamp.isoformat(),
        "device_time": event.device_time.isoformat(),
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "device_id": event.device_id,
        "details": details,
    }
