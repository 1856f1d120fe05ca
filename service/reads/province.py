"""The province view: every district's counts, gathered from the district view of every shard. Nothing personal,
as in the district summary, and no transaction spans two shards: each shard is read on its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from projections import district
from service.application.context import Actor
from service.reads.readside import ReadSide


@dataclass(frozen=True)
class ShardCounts:
    """One shard's district view, and the districts it holds now (None: all in its view, as with one database)."""

    name: str
    read: ReadSide
    districts: Callable[[], list[str] | None] = lambda: None


class Province:
    """Counts per district and in all, for the province regulator."""

    def __init__(self, shards: Sequence[ShardCounts]) -> None:
        self.shards = list(shards)

    def summary(self, actor: Actor, day_from: date, day_to: date) -> dict[str, Any]:
        """Each district's counts from its shard, then their sums."""
        actor.require_province("read_province")
        rows = [
            {**row, "shard": shard.name}
            for shard in self.shards
            for row in shard.read.query(district.district, district.per_district, day_from, day_to, shard.districts())
        ]
        totals = {name: sum(row[name] for row in rows) for name in ("schools", *district.COUNTS)}
        return {"day_from": day_from, "day_to": day_to, "districts": rows, "totals": totals}
