"""The notifier: delivers the outbox's messages to guardians through an adapter, with retries, and records each
delivery and each failed try as an event.

It runs beside the projector, a follower (see `follower`) of which one is active across all processes. The outbox
view says which messages are due; each one is checked against its own stream before it is sent, because a view
can lag. A message is never dropped: after a failed try the next one is due 5 s later, then 10 s, 20 s … at most
every 5 minutes, for as long as it takes. A release never waits for any of this.

Delivery is at least once: if the process dies after the gateway took a message but before the delivery was
recorded, the message is sent again, with the same Idempotency-Key header so that the gateway can drop it."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TextIO

import psycopg

from aggregates.base import DomainError
from aggregates.outbox import GuardianMessage
from aggregates.staff import Role
from projections import outbox
from service.application.context import Actor, CommandContext
from service.application.handoff import Handoff
from service.application.outbox import message_view
from service.processes.follower import Follower
from service.reads.readside import ReadSide

log = logging.getLogger("handoff.notifier")

NOTIFIER_LOCK = 7_316_004


class DeliveryError(Exception):
    """The gateway did not take the message; `reason` says why in a few words (no message content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OutgoingMessage:
    """What an adapter sends: references, times and the wording, never a name or a phone number."""

    school_id: str
    message_id: str
    body: dict[str, Any]

    @classmethod
    def of(cls, handoff: Handoff, state: GuardianMessage) -> OutgoingMessage:
        view = message_view(state)
        body = {
            "school_id": state.school_id,
            "message_id": state.message_id,
            "kind": state.kind,
            "child_id": state.child_id,
            "guardians": view["guardians"],
            "service_day": view["service_day"],
            "facts": dict(state.facts or {}),
            "text": handoff.outbox.message_text(state),
        }
        return cls(state.school_id, state.message_id, body)

    @property
    def key(self) -> str:
        return f"{self.school_id}/{self.message_id}"


class Adapter(Protocol):
    channel: str

    def send(self, message: OutgoingMessage) -> None:
        """Hand the message to the gateway, or raise DeliveryError."""


class ConsoleAdapter:
    """For development: prints each message as one JSON line (references and wording only)."""

    channel = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, message: OutgoingMessage) -> None:
        print(json.dumps({"guardian_message": message.body}, ensure_ascii=False), file=self.stream, flush=True)


class WebhookAdapter:
    """POSTs each message as JSON to the school's messaging gateway.

    Headers: `Idempotency-Key` (school/message, the same on every try) and, when a secret is set,
    `X-Handoff-Signature: sha256=<hex HMAC-SHA256 of the body>`. Any 2xx answer is a delivery."""

    channel = "webhook"

    def __init__(self, url: str, secret: str | None = None, timeout: float = 5.0) -> None:
        self.url, self.timeout = url, timeout
        self.secret = secret.encode() if secret else None

    def send(self, message: OutgoingMessage) -> None:
        data = json.dumps(message.body, ensure_ascii=False, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.key}
        if self.secret:
            headers["X-Handoff-Signature"] = "sha256=" + hmac.new(self.secret, data, hashlib.sha256).hexdigest()
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - configured URL
                answer.read()
        except urllib.error.HTTPError as error:
            raise DeliveryError(f"HTTP {error.code}") from None
        except urllib.error.URLError as error:
            raise DeliveryError(_reason(error.reason)) from None
        except (TimeoutError, ConnectionError) as error:
            raise DeliveryError(_reason(error)) from None


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "timed out"
    return type(reason).__name__ if isinstance(reason, BaseException) else str(reason)[:100]


class Notifier(Follower):
    """Sends what is due, records how it went, and does it again every `interval` seconds."""

    name = "notifier"
    lock = NOTIFIER_LOCK

    def __init__(
        self, handoff: Handoff, read: ReadSide, adapter: Adapter, conninfo: str, interval: float = 1.0
    ) -> None:
        super().__init__(conninfo, interval)
        self.handoff, self.read, self.adapter = handoff, read, adapter

    def step(self, conn: psycopg.Connection[Any]) -> None:
        try:
            self.deliver_due()
        except DomainError as refusal:  # e.g. views not built yet
            log.info("notifier waits: %s", refusal.code)

    def deliver_due(self, limit: int = 100) -> dict[str, int]:
        """Try every message that is due now; return how many were delivered, failed or passed over."""
        done = {"delivered": 0, "failed": 0, "skipped": 0}
        for school_id, message_id in self.read.query(outbox.outbox, outbox.due, self.handoff.clock(), limit):
            done[self.deliver(school_id, message_id)] += 1
        return done

    def deliver(self, school_id: str, message_id: str) -> str:
        """Send one message if its own stream says it is due; record the delivery or the failed try."""
        state = self.handoff.outbox.guardian_message(school_id, message_id)
        if not state.is_due(self.handoff.clock()):
            return "skipped"  # delivered or not yet due; the view has not caught up
        try:
            self.adapter.send(OutgoingMessage.of(self.handoff, state))
        except DeliveryError as failure:
            return self._record(state, "failed", failure.reason)
        except Exception as error:  # noqa: BLE001 - any adapter fault is a failed try, never a lost message
            return self._record(state, "failed", type(error).__name__)
        return self._record(state, "delivered")

    def _record(self, state: GuardianMessage, outcome: str, error: str = "") -> str:
        attempt = state.attempts + 1
        ctx = self._context(state.school_id, f"notifier-{state.message_id}-{attempt}-{outcome}")
        try:
            if outcome == "delivered":
                self.handoff.outbox.record_delivery(ctx, state.message_id, self.adapter.channel)
            else:
                self.handoff.outbox.record_delivery_failure(ctx, state.message_id, self.adapter.channel, error)
                log.warning("message %s: try %d failed: %s", state.message_id, attempt, error)
        except DomainError as refusal:  # another notifier recorded this try first
            log.info("message %s: %s", state.message_id, refusal.code)
            return "skipped"
        return outcome

    def _context(self, school_id: str, key: str) -> CommandContext:
        district = self.handoff.school(school_id).district_id
        actor = Actor("notifier", Role.ADMIN, school_id, district)
        now: datetime = self.handoff.clock()
        return CommandContext(actor, school_id, "notifier", now, key, "notifier", {"key": key})


def adapter_from(kind: str, url: str | None, secret: str | None) -> Adapter | None:
    """The adapter the settings name: console, webhook (needs a URL) or off (None)."""
    if kind == "off":
        return None
    if kind == "webhook":
        if not url:
            raise ValueError("HANDOFF_NOTIFIER=webhook needs HANDOFF_WEBHOOK_URL")
        return WebhookAdapter(url, secret)
    return ConsoleAdapter()
