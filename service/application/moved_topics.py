"""Old topics of moved or renamed event classes resolve to the classes where they live now, so that rows stored
under the old topic are read back as before. The application registers them when its module is imported, before
it reads any event."""

from __future__ import annotations

from eventsourcing.utils import register_topic, resolve_topic

from events import MOVED_TOPICS


def register_moved_topics() -> None:
    """Register every old topic in `events.MOVED_TOPICS` (again is harmless: the same class each time)."""
    for old, new in MOVED_TOPICS.items():
        register_topic(old, resolve_topic(new))
