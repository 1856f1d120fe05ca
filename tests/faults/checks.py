"""What must hold after any fault, checked over every event in the store and every view row.

- every acknowledged command is stored exactly once: one answer under its key, and exactly the events it answered;
- nothing unacknowledged is half-applied: a refused command left no event, an abandoned one (its tablet gave up)
  either none or all of them, with its answer;
- every stream's versions run 1, 2, 3, … with no gap; every answer's events are all there (no partial command);
- every child's day holds exactly the events of the commands sent for it, in order: the whole handoff, each step
  exactly once (or, where a tablet gave up, up to the step it abandoned, applied whole or not at all);
- the live views equal a fresh blue/green rebuild from the log."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from events.custody import CustodyEvent
from events.envelope import HandoffEvent
from events.idempotency import CommandAnswered
from service.application.handoff import Handoff
from tests.faults.harness import STEPS, Command, Load
from tests.faults.school import SCHOOL, open_handoff
from tests.integration.test_projector import assert_views_equal_rebuild, positions_or_empty, project_once, wait_until

PAGE = 5000


@dataclass
class Tally:
    """What one fault test did, for the closing summary."""

    requests: int = 0
    faults: int = 0
    events: int = 0
    notes: list[str] = field(default_factory=list)


def every_event(handoff: Handoff) -> list[HandoffEvent]:
    found: list[HandoffEvent] = []
    start = 1
    while True:
        page = handoff.recorder.select_notifications(start, PAGE)
        found += [handoff.mapper.to_domain_event(n) for n in page]  # type: ignore[misc]
        if len(page) < PAGE:
            return found
        start = page[-1].id + 1


def check_every_event(handoff: Handoff, commands: Sequence[Command], children: Sequence[str]) -> int:
    """Check the invariants over the whole store; return the number of events checked."""
    events = every_event(handoff)
    problems = [*_streams_without_gaps(events), *_partial_commands(events), *_commands_against_log(commands, events)]
    problems += _children_as_acknowledged(commands, events, children)
    assert not problems, f"{len(problems)} problem(s), the first ones: {problems[:10]}"
    return len(events)


def _streams_without_gaps(events: Sequence[HandoffEvent]) -> list[str]:
    versions: dict[UUID, list[int]] = defaultdict(list)
    for event in events:
        versions[event.originator_id].append(event.originator_version)
    return [f"stream {s} has versions {v}" for s, v in versions.items() if sorted(v) != list(range(1, len(v) + 1))]


def _by_key(events: Sequence[HandoffEvent]) -> dict[tuple[str, str], list[HandoffEvent]]:
    grouped: dict[tuple[str, str], list[HandoffEvent]] = defaultdict(list)
    for event in events:
        grouped[(event.school_id, event.idempotency_key)].append(event)
    return grouped


def _partial_commands(events: Sequence[HandoffEvent]) -> list[str]:
    """Every stored custody answer names the events its command recorded; exactly those must be stored with it."""
    problems = []
    for key, group in _by_key(events).items():
        answers = [e for e in group if isinstance(e, CommandAnswered)]
        recorded = [type(e).__name__ for e in group if isinstance(e, CustodyEvent)]
        if len(answers) > 1:
            problems.append(f"{key}: {len(answers)} answers")
        elif answers and "recorded" in answers[0].response and answers[0].response["recorded"] != recorded:
            problems.append(f"{key}: answered {answers[0].response['recorded']} but stored {recorded}")
        elif recorded and not answers:
            problems.append(f"{key}: custody events {recorded} without their answer")
    return problems


def _commands_against_log(commands: Sequence[Command], events: Sequence[HandoffEvent]) -> list[str]:
    grouped = _by_key(events)
    problems = []
    for command in commands:
        stored = grouped.get((SCHOOL, command.key), [])
        answers = [e for e in stored if isinstance(e, CommandAnswered)]
        recorded = [type(e).__name__ for e in stored if not isinstance(e, CommandAnswered)]
        if command.abandoned:  # all or nothing: its answer and every event it answered, or no event at all
            if stored and (len(answers) != 1 or recorded != answers[0].response["recorded"]):
                problems.append(f"{command.key}: abandoned and half-applied: {recorded} {answers}")
            continue
        if not command.acknowledged:
            problems.append(f"{command.key} {command.path}: answered {command.status} {command.answer}")
            if stored:
                problems.append(f"{command.key}: not acknowledged, yet {len(stored)} event(s) stored")
            continue
        assert command.answer is not None
        if len(answers) != 1 or recorded != command.answer["recorded"]:
            problems.append(f"{command.key}: acknowledged {command.answer['recorded']}, stored {recorded} {answers}")
    return problems


def _children_as_acknowledged(
    commands: Sequence[Command], events: Sequence[HandoffEvent], children: Sequence[str]
) -> list[str]:
    """Each child's day holds exactly the events of its commands, in the order sent; a child whose five commands
    were all acknowledged has the whole handoff, each step once. (A tablet that gave up sent no more for its
    children: their days stop after the last step acknowledged, or after the abandoned one if it was stored.)"""
    grouped = _by_key(events)
    stored: dict[str, list[str]] = defaultdict(list)
    for event in events:
        if isinstance(event, CustodyEvent):
            stored[event.child_id].append(type(event).__name__)
    expected: dict[str, list[str]] = defaultdict(list)
    acknowledged: Counter[str] = Counter()
    for command in commands:
        if command.acknowledged and command.answer:
            expected[command.child] += command.answer["recorded"]
            acknowledged[command.child] += 1
        elif command.abandoned:
            found = grouped.get((SCHOOL, command.key), [])
            expected[command.child] += [type(e).__name__ for e in found if isinstance(e, CustodyEvent)]
    problems = [f"{c}: stored {stored[c]}, sent {expected[c]}" for c in children if stored[c] != expected[c]]
    whole = [c for c in children if acknowledged[c] == len(STEPS)]
    return problems + [f"{c}: not the whole handoff: {stored[c]}" for c in whole if tuple(stored[c]) != STEPS]


def check_views(handoff: Handoff, url: str, stop_writers: Callable[[], None], timeout: float = 60.0) -> None:
    """The server's projector catches up with every event there was when the load ended; then, with the server
    stopped (its policies and notifier keep appending events while it runs), every live view equals a fresh
    rebuild from the log."""
    head = handoff.recorder.max_notification_id() or 0
    wait_until(lambda: min(positions_or_empty(url).values(), default=0) >= head, timeout=timeout)
    stop_writers()
    project_once(url, handoff)
    assert_views_equal_rebuild(url, handoff)


def check_after_load(url: str, folder: Path, load: Load, stop_writers: Callable[[], None], tally: Tally) -> None:
    """Every event and every view checked, on a Handoff of the checker's own, once the load is over; the tally
    gets the requests sent and the events checked."""
    handoff = open_handoff(url, folder)
    try:
        tally.requests = load.requests
        tally.events = check_every_event(handoff, load.commands, load.school.children)
        check_views(handoff, url, stop_writers)
    finally:
        handoff.close()


def summary(tallies: dict[str, Tally]) -> list[Any]:
    total = Tally()
    lines = []
    for name, tally in tallies.items():
        total.requests, total.faults, total.events = (
            total.requests + tally.requests,
            total.faults + tally.faults,
            total.events + tally.events,
        )
        extra = f" ({'; '.join(tally.notes)})" if tally.notes else ""
        lines.append(f"{name}: {tally.requests} requests, {tally.faults} faults, {tally.events} events checked{extra}")
    lines.append(f"total: {total.requests} requests, {total.faults} faults injected, {total.events} events checked")
    return lines
