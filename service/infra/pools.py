"""Connection pools that survive a failover, and the role of the server each one is on (primary or replica).

Under Patroni the URL names every node and libpq picks the one that accepts writes. After a failover every
connection a pool holds is dead: a checked pool tests each one before lending it and opens a new one, to the new
primary, in its place. /health and /metrics show where each pool is: one on a replica, or on no server at all, has
not recovered (README, "Deployment at scale")."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from eventsourcing.persistence import PersistenceError
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]
"""Lends one connection of a pool, e.g. `pool.connection` (psycopg_pool) or `datastore.get_connection`."""


def checked_pool(conninfo: str, size: int) -> ConnectionPool:
    """An autocommit pool of up to `size` connections, each checked before it is lent."""
    check = ConnectionPool.check_connection
    return ConnectionPool(conninfo, min_size=1, max_size=size, kwargs={"autocommit": True}, check=check, open=True)


QUERY = "SELECT pg_is_in_recovery(), host(inet_server_addr()), inet_server_port()"


def server_role(connect: Connect) -> dict[str, str | None]:
    """{"role": "primary" | "replica" | "unreachable", "server": "host:port" or None} for one pool's connection."""
    try:
        with connect() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            row = cursor.execute(QUERY).fetchone()
    except (psycopg.Error, PersistenceError):  # a pool that cannot lend a connection now (PoolTimeout included)
        return {"role": "unreachable", "server": None}
    replica, host, port = row or (None, None, None)
    return {"role": "replica" if replica else "primary", "server": f"{host}:{port}"}


def server_roles(pools: dict[str, Connect]) -> dict[str, dict[str, str | None]]:
    """The role of the server each named pool is connected to."""
    return {name: server_role(connect) for name, connect in pools.items()}
