"""The follower base: one active per lock across processes, and back at work by itself after its connection is cut."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from service.processes.follower import Follower

LOCK = 7_316_999


class Counting(Follower):
    name = "counting"
    lock = LOCK

    def __init__(self, conninfo: str) -> None:
        super().__init__(conninfo, interval=0.05)
        self.steps = self.connections = 0
        self.stepped = threading.Event()

    def begin(self, conn: psycopg.Connection[Any]) -> None:
        self.connections += 1

    def step(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute("SELECT 1")
        self.steps += 1
        self.stepped.set()


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_only_the_holder_of_the_lock_works_and_another_takes_over(fresh_postgres_url: str) -> None:
    with psycopg.connect(fresh_postgres_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
        follower = Counting(fresh_postgres_url)
        follower.start()
        try:
            assert not follower.stepped.wait(1.0), "another process holds the lock: this one waits"
            holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK,))
            assert follower.stepped.wait(10.0), "the lock is free: this one takes over"
        finally:
            follower.close()


def test_a_cut_connection_is_reopened_and_the_work_goes_on(fresh_postgres_url: str) -> None:
    follower = Counting(fresh_postgres_url)
    follower.start()
    try:
        assert follower.stepped.wait(10.0)
        with psycopg.connect(fresh_postgres_url, autocommit=True) as admin:
            cut = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'handoff-counting'"
            ).fetchall()
        assert cut, "the follower's connection was found and cut"
        assert eventually(lambda: follower.connections == 2), "a new connection"
        before = follower.steps
        assert eventually(lambda: follower.steps > before + 3 and follower.last_error is None), "back at work"
    finally:
        follower.close()
