"""The outcome of a command, kept under the client's idempotency key so that a retry gets the same answer."""

from __future__ import annotations

from typing import Any

from events.envelope import HandoffEvent


class CommandAnswered(HandoffEvent):
    """A command with this idempotency key was accepted; saved in the same transaction as its events."""

    request_fingerprint: str
    """SHA-256 of the operation, the actor and the canonical request body."""
    status_code: int
    response: dict[str, Any]
    """The response body sent back; it holds ids, never names."""
