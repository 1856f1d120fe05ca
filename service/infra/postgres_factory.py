"""eventsourcing's PostgreSQL persistence, whose connections may also ask for a server that accepts writes.

The library builds its connections from host, port, database, user and password only. A Patroni cluster is reached
through every node's address (`host=a,b port=p,q`), and libpq must skip the replicas: `target_session_attrs` is
passed on to every connection the event store's pool opens, the first one and each one after a failover."""

from __future__ import annotations

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType

TARGET_SESSION_ATTRS = "POSTGRES_TARGET_SESSION_ATTRS"


class Factory(PostgresFactory):
    """The library's factory; its pool's connections carry POSTGRES_TARGET_SESSION_ATTRS when it is set."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        wanted = self.env.get(TARGET_SESSION_ATTRS)
        if wanted and isinstance(self.datastore.pool.kwargs, dict):
            self.datastore.pool.kwargs["target_session_attrs"] = wanted
