"""Blue/green rebuild: a new version of a read model is built from position zero beside the live one, in pages,
and reads switch to it once it has caught up with the head of the log."""

from __future__ import annotations

from typing import Any

import psycopg

from projections import catalog
from projections.base import ReadModel
from projections.log import EventLog
from projections.runner import Progress, Projector
from projections.supervisor import lock_key


def rebuild(
    model: ReadModel, conninfo: str, events: EventLog, progress: Progress | None = None, page_size: int = 2000
) -> int:
    """Build the next version of `model` from the whole log, then make it the live one; return its number."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        catalog.ensure_catalog(conn)
        version = catalog.newest_version(conn, model.name) + 1
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(model.name, version),))
        projector = Projector(model, conninfo, events, version, page_size=page_size)
        projector.prepare()
        projector.catch_up(stop=events.head(), progress=progress)
        _switch_when_caught_up(conn, projector, model)
        projector.close()
        conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(model.name, version),))
    return version


def _switch_when_caught_up(conn: psycopg.Connection[Any], projector: Projector, model: ReadModel) -> None:
    """Apply what arrived during the rebuild, then switch; the live projector carries on from the new position."""
    projector.catch_up()
    catalog.activate(conn, model.name, projector.version)
