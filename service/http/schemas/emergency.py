"""API schemas of emergency mode (应急预案): entering it and leaving it."""

from __future__ import annotations

from service.http.schemas.common import CommandRequest, Reason, Ref


class EmergencyRequest(CommandRequest):
    """Switch to emergency mode (应急预案): where children are reunited with their guardians, and why."""

    reunification_point: Ref
    reason: Reason


class EmergencyEndRequest(CommandRequest):
    """Why emergency mode ends (the duty leader's words)."""

    reason: Reason
