"""Blue/green rebuild: a new version of a read model is built from position zero beside the live one, in pages,
and reads switch to it once it has caught up with the head of the log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from projections import catalog
from projections.base import ReadModel
from projections.log import EventLog
from projections.runner import Progress, Projector, Projectors
from projections.supervisor import lock_key


def rebuild(
    model: ReadModel, conninfo: str, events: EventLog, progress: Progress | None = None, page_size: int = 2000
) -> int:
    """Build the next version of `model` from the whole log, then make it the live one; return its number."""
    return rebuild_together([model], conninfo, events, progress, page_size)[model.name]


def rebuild_together(
    models: Sequence[ReadModel],
    conninfo: str,
    events: EventLog,
    progress: Progress | None = None,
    page_size: int = 2000,
) -> dict[str, int]:
    """Build the next version of each model from one reading of the whole log (each event decoded once, each page
    applied to every model in one transaction), then make each the live one; return their numbers."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        catalog.ensure_catalog(conn)
        projectors = []
        for model in models:
            version = catalog.newest_version(conn, model.name) + 1
            conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(model.name, version),))
            projectors.append(Projector(model, conninfo, events, version, page_size=page_size))
        group = Projectors(projectors, conninfo, events, page_size=page_size)
        try:
            for projector in projectors:
                projector.prepare()
            group.catch_up(stop=events.head(), progress=progress)
            _switch_when_caught_up(conn, group)
        finally:
            group.close()
            for projector in projectors:
                conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(projector.model.name, projector.version),))
    return {projector.model.name: projector.version for projector in projectors}


def _switch_when_caught_up(conn: psycopg.Connection[Any], group: Projectors) -> None:
    """Apply what arrived during the rebuild, then switch; the live projector carries on from the new position.

    A model whose handler fails is not switched: the rebuild stops with its error, and the live version stays."""
    group.catch_up()
    if group.failing:
        raise RebuildFailedError(sorted(group.failing))
    for projector in group.projectors:
        catalog.activate(conn, projector.model.name, projector.version)


class RebuildFailedError(Exception):
    def __init__(self, models: list[str]) -> None:
        super().__init__(f"rebuilding stopped: a handler fails in {', '.join(models)}; the live versions stay")
        self.models = models
