"""The outbox's rules: a message is queued once, tried until delivered with a growing pause, never dropped."""

from __future__ import annotations

from datetime import date, timedelta
from functools import reduce

import pytest

from aggregates import outbox
from aggregates.base import EventMeta
from aggregates.outbox import (
    GuardianMessage,
    MessageAlreadyDeliveredError,
    MessageNotFoundError,
    NoRecipientError,
    UnknownMessageKindError,
    retry_delay,
)
from tests.support import AFTERNOON

DAY = date(2026, 11, 30)


def meta(seconds: float = 0) -> EventMeta:
    at = AFTERNOON + timedelta(seconds=seconds)
    return EventMeta("S1", "notifier", "admin", "notifier", "k", at, at)


def queued() -> GuardianMessage:
    state = GuardianMessage.of("S1", "release-1")
    recorded = state.queue(meta(), "child_released", "C1", ["G2", "G1"], DAY, "ChildReleased:x:5", {"at": "t"})
    return reduce(outbox.evolve, recorded, state)


def test_a_queued_message_is_due_at_once_and_names_its_recipients_in_order() -> None:
    state = queued()
    assert (state.status, state.guardians, state.attempts) == ("queued", ("G1", "G2"), 0)
    assert state.is_due(AFTERNOON)


def test_a_message_is_queued_only_once() -> None:
    state = queued()
    assert state.queue(meta(), "child_released", "C1", ["G1"], DAY, "again", {}) == []


def test_each_failed_try_pushes_the_next_one_back_further_up_to_five_minutes() -> None:
    state, waits = queued(), []
    for attempt in range(1, 10):
        now = meta(attempt * 1000)
        (failed,) = state.failed(now, "webhook", "HTTP 503")
        assert failed.attempt == attempt
        waits.append(failed.next_attempt_at - now.timestamp)
        state = outbox.evolve(state, failed)
        assert state.status == "failing" and not state.is_due(now.timestamp)
        assert state.is_due(failed.next_attempt_at)
    assert waits[:4] == [timedelta(seconds=s) for s in (5, 10, 20, 40)]
    assert waits[-1] == timedelta(minutes=5) == max(waits)
    assert retry_delay(10_000) == timedelta(minutes=5)


def test_a_delivery_counts_the_tries_and_ends_the_message() -> None:
    state = queued()
    state = reduce(outbox.evolve, state.failed(meta(1), "webhook", "connection refused"), state)
    (delivered,) = state.delivered(meta(10), "webhook")
    assert delivered.attempts == 2
    state = outbox.evolve(state, delivered)
    assert state.status == "delivered" and not state.is_due(AFTERNOON + timedelta(days=1))
    with pytest.raises(MessageAlreadyDeliveredError):
        state.delivered(meta(20), "webhook")
    with pytest.raises(MessageAlreadyDeliveredError):
        state.failed(meta(20), "webhook", "late")


def test_refusals_for_unknown_messages_kinds_and_children_with_nobody_to_tell() -> None:
    empty = GuardianMessage.of("S1", "m")
    with pytest.raises(MessageNotFoundError):
        empty.delivered(meta(), "console")
    with pytest.raises(UnknownMessageKindError):
        empty.queue(meta(), "birthday", "C1", ["G1"], DAY, "x", {})
    with pytest.raises(NoRecipientError):
        empty.queue(meta(), "child_released", "C1", [], DAY, "x", {})
