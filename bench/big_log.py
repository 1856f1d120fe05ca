"""P6: command latency, and the board's and the gate's reads (bench/big_log_reads.py), with a big log against a
small one. The big log is made quickly with COPY: rows cut from
real stored custody events and answers (the mapper's own bytes), each group of them under a stream id of its own,
so that the table, its primary key and its notification index grow as a school year of afternoons would."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from aggregates.base import DomainError
from aggregates.staff import Role
from bench.big_log_reads import build_views, catch_up, read_latencies, skip_copied
from bench.common import BASE_DAY, SECRET, afternoon, database, percentile
from service.application.context import Actor, CommandContext
from service.application.handoff import Handoff
from service.demo.seed import DEMO_DISTRICT, DEMO_SCHOOL
from service.infra.event_log import event_log
from service.infra.settings import postgres_env

TABLE = "handoff_events"
THREADS = 8
CHILDREN = [f"C{n:04d}" for n in range(1, 241) if n % 10]


def stored_templates(handoff: Handoff, children: int = 250) -> list[list[tuple[str, bytes]]]:
    """The (topic, state) of every event of `children` real afternoons, grouped by stream (a save's answer is a
    stream of its own)."""
    streams: list[list[tuple[str, bytes]]] = []
    for n in range(children):
        custody: list[tuple[str, bytes]] = []
        for events in afternoon("copy-school", f"C{n:05d}", BASE_DAY):
            for event in events:
                row = handoff.mapper.to_stored_event(event)
                if type(event).__name__ == "CommandAnswered":
                    streams.append([(row.topic, row.state)])
                else:
                    custody.append((row.topic, row.state))
        streams.append(custody)
    return streams


def copy_events(url: str, templates: list[list[tuple[str, bytes]]], count: int) -> float:
    """Append about `count` events with COPY; returns the seconds it took."""
    began = time.perf_counter()
    statement = sql.SQL("COPY {} (originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)")
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy(statement.format(sql.Identifier(TABLE))) as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            written = 0
            while written < count:
                for stream in templates:
                    originator = uuid.uuid4()
                    for version, (topic, state) in enumerate(stream, start=1):
                        copy.write_row((originator, version, topic, state))
                    written += len(stream)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(TABLE)))
    return time.perf_counter() - began


def command_latencies(url: str, day: datetime, children: list[str]) -> list[float]:
    """Whole commands in process (reads, decision, save), 8 threads, every child's afternoon on `day`."""
    handoff = Handoff(postgres_env(url), secret_key=SECRET, clock=lambda: day)
    teacher = Actor("teacher-1", Role.TEACHER, DEMO_SCHOOL, DEMO_DISTRICT)
    gate = Actor("gate-1", Role.GATE, DEMO_SCHOOL, DEMO_DISTRICT)
    latencies: list[float] = []
    lock = threading.Lock()

    def context(actor: Actor) -> CommandContext:
        return CommandContext(
            actor=actor,
            school_id=DEMO_SCHOOL,
            device_id="bench",
            device_time=day,
            idempotency_key=uuid.uuid4().hex,
            operation="bench",
            body={},
        )

    def walk(share: list[str]) -> None:
        for child in share:
            guardian = f"G{child[1:]}A"
            for step in range(4):
                began = time.perf_counter()
                with contextlib.suppress(DomainError):
                    afternoon_step(handoff, step, child, guardian, context(gate if step == 1 else teacher))
                with lock:
                    latencies.append((time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=walk, args=(children[n::THREADS],)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handoff.close()
    return latencies


def afternoon_step(handoff: Handoff, step: int, child: str, guardian: str, ctx: CommandContext) -> None:
    if step == 0:
        handoff.care.check_in(ctx, child, "T01", None, None)
    elif step == 1:
        handoff.care.register_arrival(ctx, child, guardian, "pickup_code", "1234")
    elif step == 2:
        handoff.care.confirm(ctx, child, guardian, True, True)
    else:
        handoff.care.release(ctx, child, guardian)


def head(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(TABLE))).fetchone()
    return int(row[0]) if row else 0


def p6(template_url: str, server_url: str, big: int, days: int) -> dict[str, Any]:
    """Commands, then the board's and the gate's reads, on `days` afternoons with a log of 10,000 events and again
    with `big` events."""
    with database(server_url, "p6", template=template_url) as url:
        handoff = Handoff(postgres_env(url), secret_key=SECRET)
        templates = stored_templates(handoff)
        copy_events(url, templates, 10_000 - head(url))
        build_views(url, handoff)
        small_size = head(url)
        small = afternoons(url, handoff, BASE_DAY, days)
        copy_seconds = copy_events(url, templates, big - head(url))
        skip_copied(url, head(url))
        big_size = head(url)
        large = afternoons(url, handoff, BASE_DAY + timedelta(days=7 * days), days)
        handoff.close()
    figures = {f"{size}_{kind}_{q}_ms": percentile(found[kind], n) for size, found in (("small", small), ("big", large))
               for kind in ("commands", "board", "gate") for q, n in (("p50", 50), ("p99", 99))}  # fmt: skip
    return {
        "small_log_events": small_size,
        "big_log_events": big_size,
        "copy_seconds": copy_seconds,
        "small_p50_ms": figures["small_commands_p50_ms"],
        "small_p99_ms": figures["small_commands_p99_ms"],
        "big_p50_ms": figures["big_commands_p50_ms"],
        "big_p99_ms": figures["big_commands_p99_ms"],
        "commands_each": len(large["commands"]),
        "reads_each": {kind: len(large[kind]) for kind in ("board", "gate")},
        **{key: value for key, value in figures.items() if "_commands_" not in key},
    }


def afternoons(url: str, handoff: Handoff, first: datetime, days: int) -> dict[str, list[float]]:
    """Each day, a week apart: every child's afternoon of commands, the views caught up, then the pages' reads."""
    found: dict[str, list[float]] = {"commands": [], "board": [], "gate": []}
    for week in range(days):
        day = first + timedelta(days=7 * week)
        found["commands"] += command_latencies(url, day, CHILDREN)
        catch_up(url, event_log(handoff))
        for kind, latencies in read_latencies(url, day, CHILDREN).items():
            found[kind] += latencies
    return found
