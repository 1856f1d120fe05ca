"""Disclosures: every audit export is itself recorded (who, what, when, why)."""

from __future__ import annotations

from typing import Any

from events.envelope import HandoffEvent


class AuditExportMade(HandoffEvent):
    """An audit export was made and handed over."""

    schools: list[str]
    day_from: str
    day_to: str
    pseudonymised: bool
    requested_by: str
    """Who asked for it, e.g. the regulator's staff reference."""
    reason: str
    roots: dict[str, Any]
    """Per school: the tree size and root the bundle was checked against."""
