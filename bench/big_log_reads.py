"""P6's reads: what the duty leader's board and the gate tablet ask, through the same read objects as their routes,
with the views built from the log and caught up with it, as the server keeps them.

The rows P6 copies in are another school's past afternoons (`copy-school`): after a copy, the views are moved past
them as if they had been projected (their tables then hold the demo school's rows only), so the reads meet a log of
the big size but views of the small one. What grows with the log is what P6 measures: any read of the log itself
(the index's tails, replay), the log's own indexes and the cache they compete for."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg

from aggregates.staff import Role
from bench.common import SECRET
from projections import catalog
from projections.log import EventLog
from projections.rebuild import rebuild_together
from projections.registry import READ_MODELS
from projections.runner import Projector, Projectors
from service.application.context import Actor
from service.application.handoff import Handoff
from service.demo.seed import DEMO_DISTRICT, DEMO_SCHOOL
from service.infra.event_log import event_log
from service.infra.settings import postgres_env
from service.reads.index import ViewIndex
from service.reads.pages import PageReads
from service.reads.queries import Views
from service.reads.readside import ReadSide

THREADS = 4
Read = Callable[[str], Any]


def build_views(url: str, handoff: Handoff) -> None:
    """Every read model built from the whole log and made live (as `handoff project rebuild` does)."""
    rebuild_together(list(READ_MODELS.values()), url, event_log(handoff))


def catch_up(url: str, log: EventLog) -> None:
    """Every live view brought up to the head of the log, as the projectors keep it."""
    with psycopg.connect(url, autocommit=True) as conn:
        versions = {name: catalog.active_version(conn, name) for name in READ_MODELS}
    group = Projectors([Projector(m, url, log, versions[m.name] or 1) for m in READ_MODELS.values()], url, log)
    group.catch_up()
    group.close()


def skip_copied(url: str, head: int) -> None:
    """Move every view past the copied rows (another school's afternoons), as if it had projected them."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE projection_positions SET position = %s WHERE position < %s", (head, head))


def read_latencies(url: str, day: datetime, children: list[str]) -> dict[str, list[float]]:
    """The board's reads (occupancy, the day's incidents, a class's roll call) and the gate's (search, child card,
    children awaiting pickup, the dismissal queue) for every fourth child, in 4 threads; milliseconds per read."""
    handoff = Handoff(postgres_env(url), secret_key=SECRET, clock=lambda: day)
    read = ReadSide(url, event_log(handoff), handoff.clock)
    handoff.index = ViewIndex(read)  # as the runtime plugs it in: no log scans for incidents and schools
    reads = {"board": board_reads(handoff, read), "gate": gate_reads(handoff, read)}
    found: dict[str, list[float]] = {"board": [], "gate": []}
    lock = threading.Lock()

    def walk(share: list[str]) -> None:
        for child in share:
            for page, named in reads.items():
                for one in named:
                    began = time.perf_counter()
                    one(child)
                    with lock:
                        found[page].append((time.perf_counter() - began) * 1000)

    for named in reads.values():  # once untimed: this process's first reads (imports, pools, keys) are no figure
        for one in named:
            one(children[0])
    share = children[::4]
    threads = [threading.Thread(target=walk, args=(share[n::THREADS],)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    read.close()
    handoff.close()
    return found


def board_reads(handoff: Handoff, read: ReadSide) -> list[Read]:
    duty = Actor("duty-1", Role.DUTY_LEADER, DEMO_SCHOOL, DEMO_DISTRICT)
    teacher = Actor("teacher-1", Role.TEACHER, DEMO_SCHOOL, DEMO_DISTRICT)
    views, pages = Views(handoff, read), PageReads(handoff, read)
    return [
        lambda _: views.occupancy(duty, DEMO_SCHOOL, None),
        lambda _: pages.open_incidents(duty, DEMO_SCHOOL),
        lambda _: pages.class_roll(teacher, DEMO_SCHOOL, "T01"),
    ]


def gate_reads(handoff: Handoff, read: ReadSide) -> list[Read]:
    gate = Actor("gate-1", Role.GATE, DEMO_SCHOOL, DEMO_DISTRICT)
    pages = PageReads(handoff, read)
    return [
        lambda child: pages.find_children(gate, DEMO_SCHOOL, child),
        lambda child: pages.gate_card(gate, DEMO_SCHOOL, child),
        lambda _: pages.awaiting_pickup(gate, DEMO_SCHOOL),
        lambda _: pages.dismissal_queue(gate, DEMO_SCHOOL),
    ]
