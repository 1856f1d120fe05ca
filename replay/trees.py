"""Every school's hash tree over its events in log order, carried forward page by page from a saved state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from projections.log import EventLog
from replay.leaves import Salts, leaf_bytes, school_of
from replay.merkle import TreeBuilder, leaf_hash

PAGE = 2_000


@dataclass
class SchoolTrees:
    """The trees of all schools, as far as log position `position`."""

    position: int = 0
    trees: dict[str, TreeBuilder] = field(default_factory=dict)

    @classmethod
    def resume(cls, position: int, states: dict[str, dict[str, Any]]) -> SchoolTrees:
        return cls(position, {school: TreeBuilder.resume(state) for school, state in states.items()})

    def advance(
        self, events: EventLog, salts: Salts, stop: int | None = None, added: dict[str, list[bytes]] | None = None
    ) -> set[str]:
        """Append every event after our position (up to `stop`); return the schools whose trees grew. The new leaves'
        hashes go into `added` by school, when given (a witness wants consistency proofs)."""
        grew: set[str] = set()
        while stop is None or self.position < stop:
            page = events.page(self.position, PAGE, stop)
            if not page:
                break
            for row in page:
                school = school_of(row)
                h = leaf_hash(leaf_bytes(row, salts))
                self.trees.setdefault(school, TreeBuilder()).append_hash(h)
                if added is not None:
                    added.setdefault(school, []).append(h)
                grew.add(school)
            self.position = page[-1].id
        return grew

    def states(self) -> dict[str, dict[str, Any]]:
        return {school: tree.state() for school, tree in self.trees.items()}


def school_leaf_hashes(events: EventLog, salts: Salts, school: str, size: int) -> list[bytes]:
    """The hashes of the first `size` leaves of one school's tree, read from the start of the log."""
    hashes: list[bytes] = []
    position = 0
    while len(hashes) < size:
        page = events.page(position, PAGE, None)
        if not page:
            break
        hashes += [leaf_hash(leaf_bytes(row, salts)) for row in page if school_of(row) == school]
        position = page[-1].id
    return hashes[:size]
