"""The base of the application's command areas: each area holds the commands and queries of one part of the
domain and reaches the streams through the application's load, command and record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from events.envelope import HandoffEvent

if TYPE_CHECKING:
    from service.application.handoff import Handoff


Decided = tuple[Sequence[HandoffEvent], dict[str, Any]]
"""What a command decided: the events to record, and the answer to give."""


class Area:
    """One area's commands and queries, over the application it belongs to."""

    def __init__(self, app: Handoff) -> None:
        self.app = app
