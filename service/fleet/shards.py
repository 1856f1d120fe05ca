"""The shards of one process: each shard's application, read side and projectors, and the directory that routes a
school or a district to its shard. Without HANDOFF_SHARDS there is one shard, the one database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime

from service.application.handoff import Handoff, utc_now
from service.infra.directory import Directory, Placement
from service.infra.settings import Settings
from service.runtime import ReadStack, build_handoff, database_url, read_stack, share_salt_key

DEFAULT_SHARD = "default"
"""The name of the one database's shard when there are no shards."""


@dataclass
class Shard:
    """One shard: its database, its application, and (with PostgreSQL) its read side."""

    name: str
    url: str
    handoff: Handoff
    stack: ReadStack | None = None

    def close(self) -> None:
        if self.stack:
            self.stack.close()
        self.handoff.close()


class Fleet:
    """Every shard of this process, and the directory that says which holds a school or a district."""

    def __init__(self, directory: Directory, shards: dict[str, Shard]) -> None:
        self.directory = directory
        self.shards = shards

    @property
    def first(self) -> Shard:
        """Where a school or district not in the directory is looked for (and where the province's staff live)."""
        return self.shards[self.directory.default_shard]

    def of_school(self, school_id: str) -> tuple[Shard, Placement | None]:
        found = self.directory.school(school_id)
        return (self.shards[found.shard] if found else self.first), found

    def of_district(self, district_id: str) -> tuple[Shard, Placement | None]:
        found = self.directory.district(district_id)
        return (self.shards[found.shard] if found else self.first), found

    def districts_on(self, name: str) -> list[str]:
        """The districts the directory places on this shard now (a moved district's old copy is not counted)."""
        return [placed.district_id for placed in self.directory.districts() if placed.shard == name]


@contextmanager
def fleet_opened(
    settings: Settings, with_projector: bool = False, with_reads: bool = True, clock: Callable[[], datetime] = utc_now
) -> Iterator[Fleet]:
    """Every shard's application (and read side, projectors if asked), closed when done."""
    with database_url(settings) as url, ExitStack() as closing:
        if url is None:
            raise ValueError("shards need PostgreSQL")
        urls = settings.shards or {DEFAULT_SHARD: url}
        share_salt_key(url, list(urls.values()))
        directory = Directory(url, next(iter(urls)))
        closing.callback(directory.close)
        shards: dict[str, Shard] = {}
        for name, shard_url in urls.items():
            handoff = build_handoff(settings, shard_url, clock)
            shards[name] = Shard(name, shard_url, handoff)
            closing.callback(shards[name].close)
            if with_reads:
                shards[name].stack = read_stack(handoff, shard_url, settings, with_projector)
        yield Fleet(directory, shards)
