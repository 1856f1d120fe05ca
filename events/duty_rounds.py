"""Duty leaders' inspection rounds (值班巡查). Moved here from `events.incidents` (rounds are not incidents): rows
stored before the move keep their old topic, registered in `events.MOVED_TOPICS`."""

from __future__ import annotations

from events.envelope import HandoffEvent


class DutyRoundRecorded(HandoffEvent):
    """A duty leader inspected a place on their round (值班巡查) and wrote down what they found."""

    service_day: str
    place_code: str
    findings: str
    """What the duty leader saw; no names or phone numbers."""
    all_well: bool
