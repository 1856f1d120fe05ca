"""What the projector has made visible: one LISTEN connection per process, fanned out to waiting commands
(read-your-writes) and to live streams, with no polling."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import psycopg

from projections.runner import VIEWS_CHANNEL
from service.processes.follower import Follower


class ViewWatcher(Follower):
    """Tracks the position each read model has reached, as the projector announces it on commit."""

    name = "view-watcher"
    max_backoff = 1.0  # commands wait on it (read-your-writes): reconnect within a second

    def __init__(self, conninfo: str) -> None:
        super().__init__(conninfo, interval=0.0)
        self.positions: dict[str, int] = defaultdict(int)
        self.changed = threading.Condition()
        self.subscribers: dict[asyncio.Queue[dict[str, Any]], tuple[asyncio.AbstractEventLoop, str, str]] = {}

    def wait_for(self, models: Iterable[str], position: int, timeout: float) -> bool:
        """Block until every model has applied `position`, or the timeout passes; True if caught up."""
        names = list(models)
        with self.changed:
            return self.changed.wait_for(lambda: all(self.positions[m] >= position for m in names), timeout)

    def subscribe(self, school_id: str, model: str) -> asyncio.Queue[dict[str, Any]]:
        """A queue that receives a notice whenever `model` changes for this school."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
        self.subscribers[queue] = (asyncio.get_running_loop(), school_id, model)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self.subscribers.pop(queue, None)

    def begin(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(f'LISTEN "{VIEWS_CHANNEL}"')
        self._load_positions(conn)

    def step(self, conn: psycopg.Connection[Any]) -> None:
        for notice in conn.notifies(timeout=1.0):
            self._announce(json.loads(notice.payload))

    def _load_positions(self, conn: psycopg.Connection[Any]) -> None:
        """Positions committed before we started listening. A view that moved while this watcher was away (its
        connection lost, a failover) sent notices nobody heard: its streams are told now, for every school."""
        try:
            rows = conn.execute(
                "SELECT p.projection, p.position FROM projection_positions p JOIN projection_versions v"
                " ON v.projection = p.projection AND v.active_version = p.version"
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return
        for model, position in rows:
            if position > self.positions[model]:
                self._announce({"projection": model, "position": position, "schools": "*"})

    def _announce(self, notice: dict[str, Any]) -> None:
        self._advance(notice["projection"], notice["position"])
        schools = notice["schools"]
        for queue, (loop, school_id, model) in list(self.subscribers.items()):
            if model == notice["projection"] and (schools == "*" or school_id in schools):
                loop.call_soon_threadsafe(_offer, queue, notice)

    def _advance(self, model: str, position: int) -> None:
        with self.changed:
            self.positions[model] = max(self.positions[model], position)
            self.changed.notify_all()


def _offer(queue: asyncio.Queue[dict[str, Any]], notice: dict[str, Any]) -> None:
    if not queue.full():
        queue.put_nowait(notice)
