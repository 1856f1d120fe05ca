"""What every read model shares: versioned tables and one handler per event type."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.utils import get_topic
from psycopg import Connection, Cursor, sql
from psycopg.rows import dict_row

from events import MOVED_TOPICS

Handler = Callable[[Cursor[Any], "Tables", Any], None]


def custody_row(e: Any, kind: str) -> dict[str, Any]:
    """The parameters that place a custody event in a row: its school, day, child and version, and the row's kind."""
    return {
        "school": e.school_id,
        "day": e.service_day,
        "child": e.child_id,
        "version": e.originator_version,
        "kind": kind,
    }


class Tables:
    """The SQL identifiers of one version of a read model's tables, by logical name: `tables.children`."""

    def __init__(self, model: str, version: int, logical_names: Sequence[str]) -> None:
        self.version = version
        self.identifiers = {name: sql.Identifier(f"{model}_v{version}_{name}") for name in logical_names}
        self.formatted: dict[str, sql.SQL] = {}
        """Each statement with its identifiers filled in, composed once: handlers run thousands of times a page."""

    def __getattr__(self, name: str) -> sql.Identifier:
        try:
            return self.identifiers[name]
        except KeyError:
            raise AttributeError(name) from None

    def format(self, statement: str, **extra: Any) -> sql.SQL | sql.Composed:
        """A statement with {table} placeholders filled in with this version's identifiers."""
        if extra:
            return sql.SQL(statement).format(**self.identifiers, **extra)
        found = self.formatted.get(statement)
        if found is None:
            composed = sql.SQL(statement).format(**self.identifiers)
            found = self.formatted[statement] = sql.SQL(composed.as_string(None))  # type: ignore[arg-type]
        return found

    def rows(self, conn: Connection[Any], statement: str, params: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
        """Run a query over this version's tables; its rows as dicts."""
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(self.format(statement, **extra), params)
            return cur.fetchall()


class ReadModel:
    """A named read model: its tables' DDL, its handlers, and the queries that read it."""

    def __init__(self, name: str, ddl: Sequence[str]) -> None:
        self.name = name
        self.ddl = ddl
        self.handlers: dict[str, Handler] = {}
        self.logical_names = [
            _table_name(statement) for statement in ddl if statement.lstrip().startswith("CREATE TABLE")
        ]

    def handles(self, *event_types: type) -> Callable[[Handler], Handler]:
        """Register the handler for one or more event types."""

        def register(handler: Handler) -> Handler:
            for event_type in event_types:
                topic = get_topic(event_type)
                for old in [old for old, new in MOVED_TOPICS.items() if new == topic]:
                    self.handlers[old] = handler  # rows stored before the class moved keep their old topic
                self.handlers[topic] = handler
            return handler

        return register

    def tables(self, version: int) -> Tables:
        return Tables(self.name, version, self.logical_names)

    def create(self, cursor: Cursor[Any], version: int) -> None:
        tables = self.tables(version)
        for statement in self.ddl:
            cursor.execute(tables.format(statement))

    def drop(self, cursor: Cursor[Any], version: int) -> None:
        for identifier in self.tables(version).identifiers.values():
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(identifier))

    def apply(self, cursor: Cursor[Any], tables: Tables, topic: str, event: Any) -> None:
        self.handlers[topic](cursor, tables, event)


def _table_name(statement: str) -> str:
    """The logical name in 'CREATE TABLE {name} (...)'."""
    return statement.split("{", 1)[1].split("}", 1)[0]
