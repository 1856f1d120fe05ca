"""The live stream on a running server: it ends with its token, and its school's streams share one query per change."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx2
import psycopg

from service.application.context import operator_context
from service.processes.live_feed import TOKEN_RECHECK
from tests.api.test_views_over_http import Server, running  # noqa: F401 - the fixture

WITHIN = TOKEN_RECHECK + 2.0
"""Seconds a stream may outlive its token: one check interval and some slack for a loaded machine."""


class Listener:
    """One open `GET …/live`, read on a thread of its own: every snapshot, and when and how the stream ended."""

    def __init__(self, server: Server, who: str = "duty_leader") -> None:
        self.server, self.token = server, server.tokens[who]
        self.snapshots: list[dict[str, Any]] = []
        self.closed_with: dict[str, Any] | None = None
        self.ended_at: float | None = None
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        try:
            self._read()
        except httpx2.TransportError:
            pass  # the server stopped at the end of the test with the stream still open
        with self.changed:
            self.ended_at = time.monotonic()
            self.changed.notify_all()

    def _read(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        url = f"{self.server.url}/api/v1/schools/S1/live"
        with httpx2.stream("GET", url, headers=headers, timeout=30) as stream:
            event = ""
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    with self.changed:
                        if event == "closed":
                            self.closed_with = json.loads(line[5:])
                        else:
                            self.snapshots.append(json.loads(line[5:]))
                        self.changed.notify_all()

    def wait(self, condition: Callable[[Listener], bool], timeout: float = 10) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: condition(self), timeout)


def test_a_live_stream_ends_within_seconds_of_its_tokens_revocation(running: Server) -> None:  # noqa: F811
    listener = Listener(running)
    assert listener.wait(lambda s: bool(s.snapshots)), "the stream sends a snapshot at once"
    running.handoff.staff.revoke_tokens(operator_context("S1"), "d1", "lost the tablet", None)
    revoked = time.monotonic()
    assert listener.wait(lambda s: s.ended_at is not None, WITHIN + 5), "the stream outlived its revoked token"
    assert listener.ended_at is not None and listener.ended_at - revoked < WITHIN
    assert listener.closed_with is not None and listener.closed_with["code"] == "invalid_token"


def test_a_live_stream_ends_within_seconds_of_its_tokens_expiry(running: Server) -> None:  # noqa: F811
    listener = Listener(running)
    assert listener.wait(lambda s: bool(s.snapshots))
    running.handoff.clock.now += timedelta(days=2)  # type: ignore[attr-defined] - the tokens were valid for one day
    expired = time.monotonic()
    assert listener.wait(lambda s: s.ended_at is not None, WITHIN + 5), "the stream outlived its expired token"
    assert listener.ended_at is not None and listener.ended_at - expired < WITHIN


def test_the_streams_of_a_school_share_one_query_per_change(running: Server) -> None:  # noqa: F811
    listeners = [Listener(running, who) for who in ("duty_leader", "teacher", "gate", "admin") * 5]
    for listener in listeners:
        assert listener.wait(lambda s: bool(s.snapshots))
    queries: list[str] = []
    views = running.app.state.views
    query = views.read.query
    views.read.query = lambda model, read, *args, **kwargs: (
        queries.append(read.__name__),
        query(model, read, *args, **kwargs),
    )[1]
    notices: list[dict[str, Any]] = []  # the projector may announce one change in more than one commit
    watcher = running.app.state.watcher
    announce = watcher._announce
    watcher._announce = lambda notice: (
        notices.append(notice) if is_occupancy_of_s1(notice) else None,
        announce(notice),
    )

    assert running.post("C1", "check-in", {"place_code": "T1"}).status_code == 200
    for listener in listeners:
        assert listener.wait(lambda s: s.snapshots[-1]["in_care"] == 1), "every stream sees the check-in"
    queries = [q for q in queries if q == "summary"]  # the notifier reads its outbox through the same read side
    assert 1 <= len(queries) <= len(notices) <= 3, (
        f"{len(listeners)} streams ran {len(queries)} queries for {len(notices)} announced changes"
    )

    for staff in ("d1", "t1", "g1", "a1"):  # and they all end with their tokens, so the server stops at once
        running.handoff.staff.revoke_tokens(operator_context("S1"), staff, "end of the test", None)
    for listener in listeners:
        assert listener.wait(lambda s: s.ended_at is not None, WITHIN + 5)


def is_occupancy_of_s1(notice: dict[str, Any]) -> bool:
    return notice["projection"] == "occupancy" and (notice["schools"] == "*" or "S1" in notice["schools"])


def test_a_live_stream_shows_what_changed_while_the_server_was_away_from_the_database(
    running: Server,  # noqa: F811
    fresh_postgres_url: str,
) -> None:
    """As in a failover: the watcher's connection drops and it cannot reconnect while the projector shows a
    check-in (no notice reaches it); once it reconnects, the stream shows the check-in without another change."""
    listener = Listener(running)
    assert listener.wait(lambda s: bool(s.snapshots))
    watcher = running.app.state.watcher
    reachable, watcher.conninfo = watcher.conninfo, "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
    with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                     (f"handoff-{watcher.name}",))  # fmt: skip
    assert running.post("C1", "check-in", {"place_code": "T1"}).status_code == 200
    deadline = time.monotonic() + 20
    while running.get("/health").json()["projections"]["occupancy"]["lag_events"]:
        assert time.monotonic() < deadline, "the projector did not show the check-in"
        time.sleep(0.1)
    assert listener.snapshots[-1]["in_care"] == 0, "no notice reached the stream while its watcher was away"
    watcher.conninfo = reachable
    assert listener.wait(lambda s: s.snapshots[-1]["in_care"] == 1, 10), "the stream never showed the check-in"
    running.handoff.staff.revoke_tokens(operator_context("S1"), "d1", "end of the test", None)
    assert listener.wait(lambda s: s.ended_at is not None, WITHIN + 5)
