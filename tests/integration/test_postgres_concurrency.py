"""On real PostgreSQL: racing tablets, retried commands and ambiguous commits."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry

from aggregates.base import DomainError
from events.custody import ChildReleased
from service.application.handoff import Handoff
from tests.support import AFTERNOON, SCHOOL, Clock, ctx, handed_to_guardian

RACERS = 8
ROUNDS = 50


def race_release(handoff: Handoff) -> Counter[str]:
    """Eight tablets press "release" for the same child at the same moment."""
    barrier = threading.Barrier(RACERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def press(n: int) -> None:
        actor = "duty_leader" if n % 2 else "teacher"
        barrier.wait()
        try:
            result = handoff.care.release(ctx(actor), "C1", "G1")["outcome"]
        except DomainError as error:
            result = error.code
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=press, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_eight_tablets_racing_to_release_one_child_release_it_exactly_once(
    postgres_handoff: Handoff, clock: Clock
) -> None:
    for round_number in range(ROUNDS):
        clock.now = AFTERNOON + timedelta(days=round_number)
        handed_to_guardian(postgres_handoff)
        outcomes = race_release(postgres_handoff)
        day = clock.now.date()
        stream = postgres_handoff.custody(SCHOOL, "C1", day).id
        releases = [e for e in postgres_handoff.events.get(stream) if isinstance(e, ChildReleased)]
        assert len(releases) == 1, (round_number, outcomes)
        assert outcomes["recorded"] == 1, (round_number, outcomes)
        assert set(outcomes) <= {"recorded", "concurrent_change", "child_already_released"}


def test_a_retried_command_records_nothing_on_postgres(postgres_handoff: Handoff) -> None:
    command = ctx(key="tablet-retry-0001")
    first = postgres_handoff.care.check_in(command, "C1", "T1", None, None)
    before = postgres_handoff.recorder.max_notification_id()
    again = postgres_handoff.care.check_in(command, "C1", "T1", None, None)
    assert again == {**first, "replayed": True}
    assert postgres_handoff.recorder.max_notification_id() == before


class LosesTheAcknowledgementOnce(PostgresApplicationRecorder):
    """The commit reaches PostgreSQL, then the connection drops before the client hears back.

    The library then retries the insert, and PostgreSQL answers with a real unique-key violation."""

    lose_next = False

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Any, **kwargs: Any) -> Any:
        ids = PostgresApplicationRecorder.insert_events.__wrapped__(self, stored_events, **kwargs)  # type: ignore[attr-defined]
        if self.lose_next:
            self.lose_next = False
            raise OperationalError("server closed the connection unexpectedly")
        return ids


def test_an_ambiguous_commit_is_answered_as_success_not_409(postgres_handoff: Handoff) -> None:
    postgres_handoff.recorder.__class__ = LosesTheAcknowledgementOnce
    postgres_handoff.recorder.lose_next = True  # type: ignore[attr-defined]
    answer = postgres_handoff.care.check_in(ctx(key="ambiguous-0001"), "C1", "T1", None, None)
    assert answer["outcome"] == "recorded"
    assert answer["custody"]["status"] == "in_care"
    assert answer["replayed"] is True, "the answer comes from re-reading the stored command"
    assert postgres_handoff.recorder.lose_next is False  # type: ignore[attr-defined]
    stream = postgres_handoff.custody(SCHOOL, "C1", AFTERNOON.date()).id
    assert len(list(postgres_handoff.events.get(stream))) == 1
