"""The shard directory: which district each school belongs to, and which shard holds each district.

It is a small pair of tables in the directory database (HANDOFF_DATABASE_URL, or the embedded server's), not a file:
every API worker, projector and CLI on every machine reads the same map, a school's registration writes it, and a
district's move switches it in one transaction that all of them see at their next lookup."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aggregates.base import DomainError, NotFoundError
from service.infra.pools import checked_pool

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS directory_districts (district_id text PRIMARY KEY, shard text NOT NULL,"
    " moving_to text NULL);"
    "CREATE TABLE IF NOT EXISTS directory_schools (school_id text PRIMARY KEY,"
    " district_id text NOT NULL REFERENCES directory_districts (district_id))"
)
FRESH_FOR = 1.0
"""Seconds a lookup is reused: a move waits longer than this before it copies, so no process still writes."""


class DistrictMovingError(DomainError):
    """The district is being moved to another shard; its schools take no changes until the move ends."""

    status = 503
    code = "district_moving"
    message = "This district's records are being moved to another server. Nothing was recorded; try again in a minute."


class DistrictNotFoundError(NotFoundError):
    """No school of this district has been registered."""

    code = "district_not_found"
    message = "No school of this district is registered."


@dataclass(frozen=True)
class Placement:
    """Where a school's or district's records live, and whether they are being moved."""

    district_id: str
    shard: str
    moving_to: str | None = None


class Directory:
    """School → district → shard, read by every process and written at registration and by a move."""

    def __init__(self, url: str, default_shard: str, fresh_for: float = FRESH_FOR) -> None:
        self.default_shard = default_shard
        self.fresh_for = fresh_for
        self._seen: dict[str, tuple[float, Placement | None]] = {}
        self.pool = checked_pool(url, 4)  # every request's lookup: after a failover, a new primary, not a dead one
        with self.pool.connection() as conn:
            conn.execute(SCHEMA)

    def close(self) -> None:
        self.pool.close()

    def place(self, school_id: str, district_id: str, shard: str | None = None) -> Placement:
        """Record the school in its district; a new district goes to `shard` (or the default shard)."""
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO directory_districts (district_id, shard) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (district_id, shard or self.default_shard),
            )
            conn.execute(
                "INSERT INTO directory_schools (school_id, district_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (school_id, district_id),
            )
        self._seen.clear()
        found = self.school(school_id)
        assert found is not None  # noqa: S101 - just written
        return found

    def school(self, school_id: str) -> Placement | None:
        """The school's district and shard; None for a school never registered."""
        return self._cached(
            "s:" + school_id,
            "SELECT d.district_id, d.shard, d.moving_to FROM directory_schools s"
            " JOIN directory_districts d USING (district_id) WHERE s.school_id = %s",
            school_id,
        )

    def district(self, district_id: str) -> Placement | None:
        """The district's shard; None for a district with no registered school."""
        return self._cached(
            "d:" + district_id,
            "SELECT district_id, shard, moving_to FROM directory_districts WHERE district_id = %s",
            district_id,
        )

    def districts(self) -> list[Placement]:
        """Every district and its shard."""
        with self.pool.connection() as conn:
            rows = conn.execute("SELECT district_id, shard, moving_to FROM directory_districts ORDER BY 1").fetchall()
        return [Placement(*row) for row in rows]

    def schools_of(self, district_id: str) -> list[str]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT school_id FROM directory_schools WHERE district_id = %s ORDER BY 1", (district_id,)
            ).fetchall()
        return [row[0] for row in rows]

    def begin_move(self, district_id: str, target: str) -> Placement:
        """Mark the district as moving: from now on (after `fresh_for`) its schools' writes are refused."""
        with self.pool.connection() as conn:
            found = conn.execute(
                "UPDATE directory_districts SET moving_to = %s WHERE district_id = %s AND moving_to IS NULL"
                " RETURNING district_id, shard, moving_to",
                (target, district_id),
            ).fetchone()
        self._seen.clear()
        if found is None:
            raise DistrictNotFoundError
        return Placement(*found)

    def end_move(self, district_id: str, shard: str) -> None:
        """Switch the district to `shard` (the target after a move, the source after a failed one)."""
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE directory_districts SET shard = %s, moving_to = NULL WHERE district_id = %s",
                (shard, district_id),
            )
        self._seen.clear()

    def _cached(self, key: str, sql: str, value: str) -> Placement | None:
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.fresh_for:
            return seen[1]
        with self.pool.connection() as conn:
            row = conn.execute(sql, (value,)).fetchone()
        found = Placement(*row) if row else None
        if len(self._seen) > 100_000:
            self._seen.clear()
        self._seen[key] = (now, found)
        return found
