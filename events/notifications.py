"""Guardian notifications: the outbox. A message about a guardian's arrival, a release or an incident is queued as
an event, and a notifier records each delivery and each failed attempt. References only: the message names the
child and the guardians by roster reference, never by name or phone number; the school's messaging gateway looks
those up."""

from __future__ import annotations

from datetime import datetime

from events.envelope import HandoffEvent


class GuardianMessageEvent(HandoffEvent):
    """An event in one message's stream."""

    message_id: str
    """Derived from the record the message is about, so that a record is announced once."""


class GuardianMessageQueued(GuardianMessageEvent):
    """A message to a child's guardians is waiting in the outbox."""

    kind: str
    """guardian_arrived, child_released, incident_opened or emergency (the school entered emergency mode)."""
    child_id: str
    guardians: list[str]
    """The recipients: the guardians authorised to collect the child that day."""
    service_day: str
    about: str
    """The record announced, e.g. ChildReleased:<stream hex>:<version>."""
    facts: dict[str, str]
    """What the message says, as references and times: when, where, who (by reference), the incident's kind."""


class GuardianMessageDelivered(GuardianMessageEvent):
    """The messaging gateway accepted the message."""

    channel: str
    """The adapter that delivered it: webhook or console."""
    attempts: int
    """How many tries it took, this one included."""


class GuardianMessageDeliveryFailed(GuardianMessageEvent):
    """One try to deliver the message failed; it stays in the outbox and is tried again later."""

    channel: str
    attempt: int
    error: str
    """What went wrong, in a few words (e.g. 'HTTP 503', 'connection refused'); no message content."""
    next_attempt_at: datetime
