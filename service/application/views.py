"""Plain JSON shapes of custody state and events for responses: ids and times, never stored objects."""

from __future__ import annotations

from aggregates.custody import Custody
from replay.state import CustodyFields, custody_fields


class CustodyView(CustodyFields):
    """A child's custody in command answers and reads: the fields, the day, corrections and the code-entry lock."""

    school_id: str
    service_day: str
    corrected: list[int]
    code_entry_locked: bool


def custody_view(state: Custody) -> CustodyView:
    return {
        "school_id": state.school_id,
        "service_day": state.service_day.isoformat(),
        **custody_fields(state),
        "corrected": sorted(state.corrected),
        "code_entry_locked": state.code_entry_locked,
    }
