"""The window around an incident, from the event log alone: what the school knew and did, minute by minute.

For one incident: its own records; the custody of each child it names (at opening, or linked later) as it stood
when the incident opened; each child's custody chain of that day up to the end of the window (who had the child,
where, handed on to whom); and every record of the incident and of those children in the window, in server-time
order (the log position, given with each, breaks ties; offline it is the position in the export). The window runs
from `before` minutes before the opening to `after` minutes after the resolution (or after the last record of an
incident still open). Works the same on a live store and on an export loaded offline."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from eventsourcing.utils import get_topic

from aggregates.custody import Custody
from events.custody import CustodyCorrected
from events.incidents import IncidentEvent, IncidentLinked, IncidentOpened, IncidentResolved
from projections.log import EventLog
from replay.state import CustodyRow, Folded, chain, entry, fold, school_custody_events, school_events, state_row

INCIDENT_TOPICS = tuple(sorted(get_topic(kind) for kind in IncidentEvent.__subclasses__()))


def incident_events(events: EventLog, school_id: str, incident_id: str) -> list[tuple[int, IncidentEvent]]:
    """The incident's own records with their log positions, in log order."""
    return [
        (position, event)
        for position, event in school_events(events, school_id, INCIDENT_TOPICS)
        if event.incident_id == incident_id
    ]


def incident_window(
    events: EventLog, school_id: str, incident_id: str, before: int, after: int
) -> dict[str, Any] | None:
    """The incident, its children's custody at opening and custody chains, and the window's records; None if the
    log holds no such incident."""
    own = incident_events(events, school_id, incident_id)
    if not own or not isinstance(own[0][1], IncidentOpened):
        return None
    opened: IncidentOpened = own[0][1]
    children = list(opened.children)
    for _, own_event in own:
        if isinstance(own_event, IncidentLinked):
            children += [child for child in own_event.children if child not in children]
    resolved = next((e for _, e in own if isinstance(e, IncidentResolved)), None)
    start = opened.timestamp - timedelta(minutes=before)
    end = (resolved or own[-1][1]).timestamp + timedelta(minutes=after)
    day = opened.service_day

    at_opening: Folded = {}
    chains: dict[str, list[dict[str, Any]]] = {child: [] for child in children}
    records = [(position, _incident_entry(event)) for position, event in own if start <= event.timestamp <= end]
    day_began = opened.timestamp - timedelta(days=1)  # a service day is at most a day long
    for position, event in school_custody_events(events, school_id, day_began, end):
        if event.child_id not in chains or event.service_day != day or event.timestamp > end:
            continue
        if event.timestamp <= opened.timestamp:
            fold(at_opening, event)
        link = chain(event)
        if link is not None or isinstance(event, CustodyCorrected):
            chains[event.child_id].append(_link(event, link))
        if start <= event.timestamp:
            records.append((position, {**entry(event), "record": "custody", "child_id": event.child_id}))
    records.sort(key=lambda found: (found[1]["server_time"], found[0]))
    return {
        "school_id": school_id,
        "incident": {
            "incident_id": incident_id,
            "kind": opened.kind,
            "service_day": day,
            "summary": opened.summary,
            "children": children,
            "staff": list(opened.staff),
            "opened_at": opened.timestamp,
            "opened_by": opened.actor_id,
            "resolved_at": resolved.timestamp if resolved else None,
            "outcome": resolved.outcome if resolved else None,
            "source": opened.source,
        },
        "from": start,
        "to": end,
        "at_opening": [_at_opening(at_opening, school_id, child, day) for child in children],
        "custody_chain": chains,
        "events": [{"position": position, **record} for position, record in records],
    }


def _at_opening(folded: Folded, school_id: str, child_id: str, day: str) -> CustodyRow:
    """The child's custody when the incident opened; 'expected' (never seen that day) if nothing was recorded."""
    if child_id in folded:
        return state_row(*folded[child_id])
    return state_row(Custody.expected(school_id, child_id, date.fromisoformat(day)), None)


def _link(event: Any, link: dict[str, str | None] | None) -> dict[str, Any]:
    return {
        "server_time": event.timestamp.isoformat(),
        "type": type(event).__name__,
        "from": (link or {}).get("from"),
        "to": (link or {}).get("to"),
        "place_code": getattr(event, "place_code", None) or getattr(event, "to_place_code", None),
        "actor_id": event.actor_id,
    }


def _incident_entry(event: IncidentEvent) -> dict[str, Any]:
    return {**entry(event), "record": "incident", "child_id": None}
