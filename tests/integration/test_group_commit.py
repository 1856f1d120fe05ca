"""The group-commit recorder on real PostgreSQL: conflicts, idempotency and commit order under concurrency,
and several processes writing and projecting against one database with nothing lost and nothing doubled."""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import DataError, IntegrityError, StoredEvent

from aggregates.base import DomainError
from aggregates.staff import Role
from events.custody import ChildCheckedIn
from service.application.context import Actor, CommandContext
from service.application.handoff import Handoff
from service.demo.seed import DEMO_DISTRICT, DEMO_SCHOOL, seed_demo
from service.infra.group_commit import GroupCommitRecorder, Waiting
from service.infra.settings import postgres_env
from tests.integration.test_projector import start_projector, wait_until
from tests.support import SECRET, ctx

TOPIC = "tests:Event"
DISMISSAL = datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)  # a Tuesday, 16:30 in Shanghai


def stored(stream: uuid.UUID, version: int, topic: str = TOPIC) -> StoredEvent:
    return StoredEvent(originator_id=stream, originator_version=version, topic=topic, state=b"{}")


@pytest.fixture
def recorder(fresh_postgres_url: str) -> Iterator[GroupCommitRecorder]:
    handoff = Handoff(postgres_env(fresh_postgres_url, pool_size=4), secret_key=SECRET)
    assert isinstance(handoff.recorder, GroupCommitRecorder)
    yield handoff.recorder
    handoff.close()


def log_keys(recorder: GroupCommitRecorder) -> list[tuple[int, uuid.UUID, int]]:
    rows = recorder.select_notifications(1, 1_000_000)
    return [(n.id, n.originator_id, n.originator_version) for n in rows]


def test_one_batch_commits_every_save_that_does_not_conflict_and_fails_only_the_others(
    recorder: GroupCommitRecorder,
) -> None:
    """Outcomes are those of the saves one after the other, in queue order, each all-or-nothing."""
    taken, free, other, lost = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    recorder.insert_events([stored(taken, 1)])
    batch = [
        Waiting([stored(free, 1), stored(other, 1)]),
        Waiting([stored(free, 1), stored(other, 1)]),  # the same save again (a retry): refused, not told it won
        Waiting([stored(taken, 1), stored(lost, 1)]),  # conflicts with the log, so writes nothing...
        Waiting([stored(lost, 1)]),  # ...and this save of the same key, after it, commits
        Waiting([stored(free, 2)]),
        Waiting([stored(free, 2), stored(uuid.uuid4(), 1)]),  # conflicts with the save just before it
        Waiting([stored(other, 2)]),
    ]
    recorder._write(batch)
    ok = type(None)
    assert [type(w.error) for w in batch] == [ok, IntegrityError, IntegrityError, ok, ok, IntegrityError, ok]
    assert all(w.done.is_set() for w in batch)
    written = log_keys(recorder)
    assert [(s, v) for _, s, v in written] == [(taken, 1), (free, 1), (other, 1), (lost, 1), (free, 2), (other, 2)]
    assert [n for n, _, _ in written] == list(range(1, 7)), "in queue order, and no gaps"
    for waiting in batch:
        assert waiting.ids == ([] if waiting.error else [n for n, s, v in written if (s, v) in waiting.keys()])


def test_a_save_failing_for_another_reason_fails_alone(recorder: GroupCommitRecorder) -> None:
    """Not a conflict: the batch is written again save by save, each in a savepoint."""
    taken, free = uuid.uuid4(), uuid.uuid4()
    recorder.insert_events([stored(taken, 1)])
    batch = [
        Waiting([stored(free, 1)]),
        Waiting([stored(uuid.uuid4(), 1, topic="bad\x00topic")]),  # PostgreSQL text holds no NUL
        Waiting([stored(taken, 1)]),
        Waiting([stored(free, 2)]),
    ]
    recorder._write(batch)
    assert [type(w.error) for w in batch] == [type(None), DataError, IntegrityError, type(None)]
    assert [(s, v) for _, s, v in log_keys(recorder)] == [(taken, 1), (free, 1), (free, 2)]


def test_racing_saves_are_batched_and_each_key_is_won_exactly_once(recorder: GroupCommitRecorder) -> None:
    contested = [uuid.uuid4() for _ in range(10)]
    outcomes: Counter[str] = Counter()
    winners: dict[uuid.UUID, list[uuid.UUID]] = {stream: [] for stream in contested}
    lock = threading.Lock()
    barrier = threading.Barrier(24)

    def save(n: int) -> None:
        barrier.wait()
        for stream in contested:
            mine = uuid.uuid4()  # all-or-nothing: the contested key and a key of this save's own...
            save = [stored(mine, 1), stored(stream, 1)] if n % 2 else [stored(stream, 1)]  # ...or identical saves
            try:
                ids = recorder.insert_events(save)
            except IntegrityError:
                result = "conflict"
            else:
                result = "committed"
                assert ids is not None and len(ids) == len(save)
                with lock:
                    winners[stream].append(mine if n % 2 else stream)
            with lock:
                outcomes[result] += 1

    batches_before = recorder.batches
    threads = [threading.Thread(target=save, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == {"committed": 10, "conflict": 230}
    assert all(len(found) == 1 for found in winners.values())
    written = log_keys(recorder)
    streams = {s for _, s, _ in written}
    assert streams == set(contested) | {w[0] for w in winners.values()}, "a refused save left nothing behind"
    assert [n for n, _, _ in written] == list(range(1, len(written) + 1)), "no gaps: conflicts never reach the sequence"
    assert len({(s, v) for _, s, v in written}) == len(written)
    assert recorder.batches - batches_before < 240, "saves were committed together"


def test_the_log_grows_in_commit_order_as_a_tailing_reader_sees_it(recorder: GroupCommitRecorder) -> None:
    """A reader that takes the head and reads up to it never later finds an event at or below that head."""
    stop = threading.Event()
    late: list[int] = []

    def tail() -> None:
        seen = 0
        while not stop.is_set():
            head = recorder.max_notification_id() or 0
            found = [n.id for n in recorder.select_notifications(1, 1_000_000, stop=head)]
            late.extend(i for i in found[seen:] if i <= seen)
            assert found == list(range(1, head + 1)), "every id up to the head is there, once"
            seen = len(found)

    def write() -> None:
        for _ in range(40):
            recorder.insert_events([stored(uuid.uuid4(), 1), stored(uuid.uuid4(), 1)])

    reader = threading.Thread(target=tail)
    reader.start()
    writers = [threading.Thread(target=write) for _ in range(12)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    reader.join()
    assert not late
    assert [n for n, _, _ in log_keys(recorder)] == list(range(1, 961))


def test_every_batch_notifies_the_projectors_channel(recorder: GroupCommitRecorder, fresh_postgres_url: str) -> None:
    with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:
        conn.execute(f'LISTEN "{recorder.channel_name}"')
        recorder.insert_events([stored(uuid.uuid4(), 1)])
        assert [n.channel for n in conn.notifies(timeout=5, stop_after=1)] == [recorder.channel_name]


def test_a_failed_commit_fails_the_batch_and_the_retry_finds_what_was_committed(
    recorder: GroupCommitRecorder,
) -> None:
    """An ambiguous commit: the events are in, the answer was lost. Retried, the save conflicts with itself."""
    stream = uuid.uuid4()
    original = recorder._commit
    lose = [True]

    def commit_then_lose_the_answer(conn: Any, batch: Any) -> Any:
        answers = original(conn, batch)
        if lose.pop() if lose else False:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return answers

    recorder._commit = commit_then_lose_the_answer  # type: ignore[method-assign]
    with pytest.raises(IntegrityError):
        recorder.insert_events([stored(stream, 1)])
    assert [s for _, s, _ in log_keys(recorder)] == [stream]


def test_the_same_command_sent_by_sixteen_threads_at_once_is_recorded_once(postgres_handoff: Handoff) -> None:
    command = ctx(key="retried-check-in-0001")
    barrier = threading.Barrier(16)
    answers: list[Any] = []

    def send() -> None:
        barrier.wait()
        answers.append(postgres_handoff.care.check_in(command, "C1", "T1", None, None))

    threads = [threading.Thread(target=send) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 16, "no 409 for a retry"
    assert Counter(a["replayed"] for a in answers) == {False: 1, True: 15}
    assert len({repr({**a, "replayed": None}) for a in answers}) == 1, "every retry gets the same answer"
    events = postgres_handoff.recorder.select_notifications(1, 1_000_000, topics=[topic_of(ChildCheckedIn)])
    assert len(events) == 1


def topic_of(kind: type) -> str:
    return f"{kind.__module__}:{kind.__qualname__}"


# Several processes against one database


def check_in_share(url: str, share: list[str], process: int, results: Any) -> None:
    """A process of its own: check in its share of the demo children, each with a key of its own, sent twice."""
    handoff = Handoff(postgres_env(url, pool_size=6), secret_key=SECRET, clock=lambda: DISMISSAL)
    teacher = Actor("teacher-1", Role.TEACHER, DEMO_SCHOOL, DEMO_DISTRICT)
    found: list[tuple[str, str]] = []
    lock = threading.Lock()

    def send(children: list[str]) -> None:
        for child in children:
            command = CommandContext(
                actor=teacher,
                school_id=DEMO_SCHOOL,
                device_id="tablet",
                device_time=DISMISSAL,
                idempotency_key=f"process-{process}-{child}",
                operation="check_in",
                body={},
            )
            for _ in range(2):  # the second send is a retry of the same request
                try:
                    answer = handoff.care.check_in(command, child, "T01", None, None)
                    outcome = "replayed" if answer["replayed"] else "recorded"
                except DomainError as error:
                    outcome = error.code
                with lock:
                    found.append((child, outcome))

    threads = [threading.Thread(target=send, args=(share[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handoff.close()
    results.put(found)


def test_three_writer_processes_and_a_projector_lose_nothing_and_double_nothing(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    handoff = Handoff(postgres_env(fresh_postgres_url), secret_key=SECRET, clock=lambda: DISMISSAL)
    seed_demo(handoff, tmp_path / "tokens.json")
    projector = start_projector(fresh_postgres_url)
    children = [f"C{n:04d}" for n in range(1, 121)]
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    shares = [children[0::2] + children[1::4], children[1::2] + children[0::4], children[2::3]]  # overlapping
    processes = [
        spawn.Process(target=check_in_share, args=(fresh_postgres_url, share, n, results))
        for n, share in enumerate(shares)
    ]
    try:
        for process in processes:
            process.start()
        found = [item for _ in processes for item in results.get(timeout=60)]
        for process in processes:
            process.join(10)
        recorded = Counter(child for child, outcome in found if outcome == "recorded")
        check_ins = handoff.recorder.select_notifications(1, 1_000_000, topics=[topic_of(ChildCheckedIn)])
        logged = Counter(handoff.mapper.to_domain_event(n).child_id for n in check_ins)
        assert recorded == logged, "every recorded check-in is in the log, and nothing else is"
        assert max(logged.values()) == 1, "no child checked in twice"
        assert len(logged) == sum(1 for n in range(1, 121) if n % 10), "every applicant checked in"
        assert {o for _, o in found} <= {
            "recorded",
            "replayed",
            "child_already_in_care",
            "concurrent_change",
            "not_enrolled",
        }
        head = handoff.recorder.max_notification_id()
        ids = [n.id for n in handoff.recorder.select_notifications(1, 1_000_000)]
        assert ids == list(range(1, head + 1))
        wait_until(lambda: audit_position(fresh_postgres_url) >= head, timeout=30)
        with psycopg.connect(fresh_postgres_url) as conn:
            rows = conn.execute("SELECT child_id, count(*) FROM audit_v1_changes GROUP BY child_id").fetchall()
        assert dict(rows) == dict(logged), "the projector applied each event exactly once"
    finally:
        projector.terminate()
        projector.wait()
        for process in processes:
            process.kill()
        handoff.close()


def audit_position(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT position FROM projection_positions WHERE projection = 'audit'").fetchone()
    return row[0] if row else 0
