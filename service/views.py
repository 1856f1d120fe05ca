"""Plain JSON shapes of custody state and events for responses: ids and times, never stored objects."""

from __future__ import annotations

from typing import Any

from aggregates.custody import Custody


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
        "code_entry_locked": state.code_entry_locked,
    }
