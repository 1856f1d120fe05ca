"""Plain JSON shapes of custody state and events for responses: ids and times, never stored objects."""

from __future__ import annotations

from typing import Any

from aggregates.custody import Custody
from replay.state import custody_fields


def custody_view(state: Custody) -> dict[str, Any]:
    return {
        "school_id": state.school_id,
        "service_day": state.service_day.isoformat(),
        **custody_fields(state),
        "corrected": sorted(state.corrected),
        "code_entry_locked": state.code_entry_locked,
    }
