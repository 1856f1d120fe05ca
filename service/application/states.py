"""The states this process has loaded, served without a read while the log says that they have not changed (#18).

A command loads the school, the staff member, the roster entry, the guardian list, the enrolment, the service day
and the child's custody. Each load used to read its stream (the events after a cached state): one round trip each.
Now a command first reads which streams changed since this process last looked (`fresh`: one read of the log after
the last position it knows, which brings its idempotency key's stored answer too), and within that scope a cached
state that none of those changes touched is served as it is. Every state is kept with the position it was read
at; the log hands out positions in commit order (the writer's table lock), so a state read after position P holds
every event up to P, and it is current as long as no change to its stream after P is known. A state is thus as
fresh as a read of its stream at the start of the command: a guardian revoked in another process before the
command began is seen, whatever this process cached. Outside a `fresh` scope (and for `read_through` loads) every
load reads its stream, as before."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.application import LRUCache
from eventsourcing.persistence import ApplicationRecorder, EventStore, StoredEvent

Projector = Callable[[Any, Any], Any]

CHANGES_PAGE = 2_000
"""Changes read per refresh at most; after a longer gap (an idle process) every cached state is read again once."""
CHANGES_KEPT = 100_000
"""Streams whose latest change position is remembered; older ones are forgotten below a floor position."""


@runtime_checkable
class ReadsChangesWithEvents(Protocol):
    """A recorder that reads the changes after a position and one stream's first events in one round trip
    (service.infra.group_commit, PostgreSQL's default)."""

    def changes_and_events(
        self, start: int, limit: int, stream: UUID, stream_limit: int
    ) -> tuple[list[tuple[int, UUID]], list[StoredEvent]]: ...


@dataclass(frozen=True)
class Cached:
    """A stream's state (None: no events yet) and the log position it was read at (None: unknown)."""

    state: Any
    read_at: int | None


class Changes:
    """Which stream changed last at which log position, as far as this process has read the log."""

    def __init__(self, kept: int = CHANGES_KEPT) -> None:
        self.kept = kept
        self.latest: OrderedDict[UUID | str, int] = OrderedDict()
        self.seen: int | None = None
        """Every change up to this position is in `latest` (or below `floor`)."""
        self.floor = 0
        """A state read before this position may have missed a change that is no longer remembered."""
        self.lock = threading.Lock()

    def add(self, changes: Sequence[tuple[int, UUID | str]], upto: int) -> None:
        """Note the changes read from the log after `seen`, up to position `upto`."""
        with self.lock:
            for position, stream in changes:
                if position > self.latest.get(stream, 0):
                    self.latest[stream] = position
                    self.latest.move_to_end(stream)
            while len(self.latest) > self.kept:
                _, forgotten = self.latest.popitem(last=False)
                self.floor = max(self.floor, forgotten)
            self.seen = max(self.seen or 0, upto)

    def skip_to(self, position: int) -> None:
        """Too many changes to read: distrust every state read before `position`."""
        with self.lock:
            self.floor = max(self.floor, position)
            self.seen = max(self.seen or 0, position)

    def unchanged_since(self, stream: UUID, read_at: int | None) -> bool:
        return read_at is not None and read_at >= self.floor and self.latest.get(stream, 0) <= read_at


class States:
    """An LRU cache of stream states, served without a read inside a `fresh` scope while their stream is unchanged."""

    def __init__(self, events: EventStore, recorder: ApplicationRecorder, size: int) -> None:
        self.events, self.recorder = events, recorder
        self.cache: LRUCache[UUID, Cached] | None = LRUCache(maxsize=size) if size > 0 else None
        self.changes = Changes()
        self.scope = threading.local()
        self.hits = 0
        """How many loads started from a cached state (for tests and metrics)."""
        self.unread = 0
        """How many loads were answered from the cache without reading the log."""

    @contextmanager
    def fresh(self, first_of: UUID | None = None) -> Iterator[list[StoredEvent] | None]:
        """Within this scope (on this thread), a load reads its stream only if it changed since it was cached.

        With `first_of`, the read of the changes also brings that stream's first stored event (a command's stored
        answer), yielded as a list of none or one; None when it was not read with them (read it as usual)."""
        outer = getattr(self.scope, "position", None)
        position, first = self.refresh(first_of) if self.cache is not None else (None, None)
        self.scope.position = position
        try:
            yield first
        finally:
            self.scope.position = outer

    def refresh(self, first_of: UUID | None = None) -> tuple[int, list[StoredEvent] | None]:
        """Read which streams changed since the last known position (one read, which also brings `first_of`'s first
        event where the recorder can); the position now known, and that event if read."""
        seen = self.changes.seen
        if seen is None:  # nothing cached so far is trusted: start from the log's head
            self.changes.skip_to(self.recorder.max_notification_id() or 0)
            return self.changes.seen or 0, None
        first: list[StoredEvent] | None = None
        found: Sequence[tuple[int, UUID | str]]
        if first_of is not None and isinstance(self.recorder, ReadsChangesWithEvents):
            found, first = self.recorder.changes_and_events(seen + 1, CHANGES_PAGE, first_of, 1)
        else:
            found = [(n.id, n.originator_id) for n in self.recorder.select_notifications(seen + 1, CHANGES_PAGE)]
        if len(found) == CHANGES_PAGE:
            self.changes.skip_to(self.recorder.max_notification_id() or 0)
        else:
            self.changes.add(found, found[-1][0] if found else seen)
        return max(self.changes.seen or 0, seen), first

    def load(self, stream: UUID, projector: Projector, read_through: bool = False) -> Any:
        """The stream's state now, or None if it has no events."""
        entry = self._peek(stream)
        position = None if read_through else getattr(self.scope, "position", None)
        if entry is not None and position is not None and self.changes.unchanged_since(stream, entry.read_at):
            self.unread += 1
            return entry.state
        read_at = position if position is not None else self.changes.seen  # known before the read below
        cached = entry.state if entry is not None else None
        if cached is not None:
            self.hits += 1
        after = None if cached is None else cached.version
        state = projector(cached, self.events.get(stream, gt=after))
        if self.cache is not None:
            self.cache.put(stream, Cached(state, read_at))
        return state

    def holds(self, stream: UUID) -> bool:
        entry = self._peek(stream)
        return entry is not None and entry.state is not None

    def _peek(self, stream: UUID) -> Cached | None:
        if self.cache is None:
            return None
        try:
            return self.cache.get(stream)
        except KeyError:
            return None
