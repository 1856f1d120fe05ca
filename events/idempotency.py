"""The outcome of a command, kept under the client's idempotency key so that a retry gets the same answer."""

from __future__ import annotations

from typing import Any

from events.envelope import HandoffEvent


class CommandAnswered(HandoffEvent):
    """A command with this idempotency key was accepted; saved in the same transaction as its events.

    Version 2 adds `response_version`; a version-1 row was written when the answers had their first shape."""

    class_version = 2

    request_fingerprint: str
    """SHA-256 of the operation, the actor and the canonical request body."""
    status_code: int
    response: dict[str, Any]
    """The response body sent back; it holds ids, never names."""
    response_version: int
    """The shape of command answers `response` was written in; a retry gets it back in the current shape."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Answers stored before their shape was versioned are in the first shape."""
        state["response_version"] = 1
