"""What Handoff keeps of the school's records system (OneRoster), one stream per school: when each row it applied last
changed (dateLastModified, per file and sourcedId), so that a delta row no newer than it is not applied over it (a
delta delivered late, or twice); and the Handoff id of each person the records know by a sourcedId of their own, so
that a delta may name them by sourcedId alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from uuid import UUID

from aggregates.base import EventMeta, stamp, stream_id
from events.envelope import HandoffEvent
from events.roster import RosterRowsApplied


def roster_records_id(school_id: str) -> UUID:
    return stream_id("roster-records", school_id)


def _instant(written: str) -> datetime:
    found = datetime.fromisoformat(written.replace("Z", "+00:00"))
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)  # a time without offset: UTC


@dataclass(frozen=True)
class RosterRecords:
    """Per 'file/sourcedId', the dateLastModified of the row last applied; per person's sourcedId, their Handoff id."""

    id: UUID
    version: int
    modified: Mapping[str, str] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, school_id: str) -> RosterRecords:
        return cls(roster_records_id(school_id), 0)

    def applied_since(self, key: str, written: str) -> str | None:
        """The dateLastModified applied before, when it is as late as `written` or later: the row is not newer."""
        before = self.modified.get(key)
        return before if before and _instant(written) <= _instant(before) else None

    def apply(self, meta: EventMeta, rows: Mapping[str, str], people: Mapping[str, str]) -> list[HandoffEvent]:
        """Keep the times of the rows an import applied, and who its people are; nothing when none of it changed."""
        changed = {key: written for key, written in rows.items() if self.modified.get(key) != written}
        named = {key: person for key, person in people.items() if self.people.get(key) != person}
        if not (changed or named):
            return []
        return [RosterRowsApplied(**stamp(self.id, self.version, meta), modified=changed, people=named)]


def evolve(state: RosterRecords, event: HandoffEvent) -> RosterRecords:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    if isinstance(event, RosterRowsApplied):
        return replace(state, modified={**state.modified, **event.modified}, people={**state.people, **event.people})
    return state


def project(state: RosterRecords | None, events: Iterable[HandoffEvent]) -> RosterRecords | None:
    for event in events:
        state = evolve(state or RosterRecords(event.originator_id, 0), event)
    return state
