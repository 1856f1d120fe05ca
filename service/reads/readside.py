"""Reads from the projections' tables, always on the live version, scoped to the caller's role and school."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from psycopg import Connection
from psycopg.errors import UndefinedTable

from aggregates.base import DomainError
from projections import catalog
from projections.base import ReadModel, Tables
from projections.log import EventLog
from projections.registry import READ_MODELS
from service.infra.pools import checked_pool

STUCK_AFTER = 30.0
"""Seconds a view's position may stand still, with events waiting, before /health calls it stuck."""


class ViewsNotReadyError(DomainError):
    """The read model has not been built yet."""

    status = 503
    code = "views_not_ready"
    message = "The live views are still being built. Try again in a moment."


class ReadSide:
    """A small pool of its own, and the live version of every read model."""

    def __init__(
        self,
        conninfo: str,
        events: EventLog,
        clock: Callable[[], datetime],
        models: Sequence[ReadModel] = (),
        pool_size: int = 4,
        stuck_after: float = STUCK_AFTER,
    ) -> None:
        self.pool = checked_pool(conninfo, pool_size)
        self.events = events
        self.clock = clock
        self.stuck_after = stuck_after
        self.models = [m.name for m in models] or list(READ_MODELS)

    def close(self) -> None:
        self.pool.close()

    def query(self, model: ReadModel, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self.pool.connection() as conn:
            tables = self._tables(conn, model)
            try:
                return read(conn, tables, *args, **kwargs)
            except UndefinedTable as error:  # a version being created or dropped right now
                raise ViewsNotReadyError from error

    def _tables(self, conn: Connection[Any], model: ReadModel) -> Tables:
        try:
            version = catalog.active_version(conn, model.name)
        except UndefinedTable as error:  # the projector has not created its catalog yet
            raise ViewsNotReadyError from error
        if version is None:
            raise ViewsNotReadyError
        return model.tables(version)

    def status(self) -> dict[str, Any]:
        """Every read model's position and lag against the store's true head, any failing event, the events it
        parked, and whether it is stuck (its position has not moved for a while although the head has)."""
        head = self.events.head()
        with self.pool.connection() as conn:
            catalog.ensure_catalog(conn)
            positions = {
                name: (position, idle)
                for name, position, idle in conn.execute(
                    "SELECT p.projection, p.position, extract(epoch FROM now() - p.updated_at)::float"
                    " FROM projection_positions p JOIN projection_versions v"
                    " ON v.projection = p.projection AND v.active_version = p.version"
                ).fetchall()
            }
            failing = {f.projection: f for f in catalog.failures(conn)}
            parked = catalog.parked(conn)
        return {
            name: self._model_status(head, positions.get(name), failing.get(name), parked.get(name))
            for name in self.models
        } | {"head": head}

    def _model_status(
        self,
        head: int,
        position: tuple[int, float] | None,
        failure: catalog.Failure | None,
        parked: catalog.Parked | None,
    ) -> dict[str, Any]:
        reached, idle = position or (0, 0.0)
        lag_seconds = self._lag_seconds(reached, head)
        stuck = reached < head and min(idle, lag_seconds) > self.stuck_after
        state = "failing" if failure else "stuck" if stuck else "not_started" if position is None else "live"
        return {
            "position": reached,
            "lag_events": head - reached,
            "lag_seconds": lag_seconds,
            "state": state,
            "failure": None
            if failure is None
            else {
                "position": failure.position,
                "event": failure.topic.rsplit(":", 1)[-1],
                "error": failure.error,
                "attempts": failure.attempts,
                "since": failure.first_seen.isoformat(),
            },
            "parked": 0 if parked is None else parked.count,
            "last_parked": None
            if parked is None
            else {
                "position": parked.position,
                "event": parked.topic.rsplit(":", 1)[-1],
                "school_id": parked.school_id,
                "error": parked.error,
                "at": parked.parked_at.isoformat(),
            },
        }

    def _lag_seconds(self, position: int, head: int) -> float:
        """How long the oldest event not yet visible has waited."""
        if position >= head:
            return 0.0
        waiting = self.events.page(position, 1)
        if not waiting:
            return 0.0
        return max(0.0, (self.clock() - self.events.decode(waiting[0]).timestamp).total_seconds())
