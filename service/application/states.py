"""The states this process has loaded, kept so that a command reads only the events stored after them (#18).

A command loads the school, the roster entry, the guardian list, the enrolment, staff and the child's custody. Each
load folded its stream from the first event. With this cache, a load asks the event store only for the events after
the cached version, in the same single read as before, and folds just those: the school's long stream is decoded
once per process instead of once per command. That read always happens, so a cached state is never staler than a
fresh fold: a change made by another process is in the events after the cached version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import LRUCache
from eventsourcing.persistence import EventStore

Projector = Callable[[Any, Any], Any]


class States:
    """An LRU cache of stream states, brought up to date on every load."""

    def __init__(self, events: EventStore, size: int) -> None:
        self.events = events
        self.cache: LRUCache[UUID, Any] | None = LRUCache(maxsize=size) if size > 0 else None
        self.hits = 0
        """How many loads started from a cached state (for tests and metrics)."""

    def load(self, stream: UUID, projector: Projector) -> Any:
        """The stream's state now, or None if it has no events."""
        cached = self._cached(stream)
        after = None if cached is None else cached.version
        state = projector(cached, self.events.get(stream, gt=after))
        if self.cache is not None and state is not None and state is not cached:
            self.cache.put(stream, state)
        return state

    def holds(self, stream: UUID) -> bool:
        return self._peek(stream) is not None

    def _cached(self, stream: UUID) -> Any:
        found = self._peek(stream)
        if found is not None:
            self.hits += 1
        return found

    def _peek(self, stream: UUID) -> Any:
        if self.cache is None:
            return None
        try:
            return self.cache.get(stream)
        except KeyError:
            return None
