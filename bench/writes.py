"""P1: events committed per second through the application's save, 16 writers, against raw single-row INSERT
commits per second with 16 connections on the same server; with the library's recorder (before) and group commit."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import psycopg

from bench.common import BASE_DAY, SECRET, afternoon, database
from service.application.handoff import Handoff
from service.infra.settings import postgres_env

PAYLOAD = os.urandom(400)
"""About the size of a stored custody event."""


def raw_inserts(url: str, connections: int, seconds: float) -> float:
    """Commits per second of single-row INSERTs, one transaction each, over `connections` connections."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE raw_inserts (id bigserial PRIMARY KEY, stream uuid NOT NULL, payload bytea)")
    counts = [0] * connections
    start = threading.Barrier(connections + 1)

    def insert(n: int, until: list[float]) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            start.wait()
            while time.monotonic() < until[0]:
                conn.execute("INSERT INTO raw_inserts (stream, payload) VALUES (%s, %s)", (uuid.uuid4(), PAYLOAD))
                counts[n] += 1

    return _run(insert, counts, start, seconds)


def _run(work: Any, counts: list[int], start: threading.Barrier, seconds: float) -> float:
    until = [float("inf")]
    threads = [threading.Thread(target=work, args=(n, until)) for n in range(len(counts))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    until[0] = began + seconds
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - began)


def service_saves(
    url: str, writers: int, seconds: float, group_commit: bool, school: str = "bench-school"
) -> dict[str, float]:
    """Events committed per second by `writers` threads saving a command's events through Handoff.save.

    Each save is what a custody command saves (the custody event and its CommandAnswered), decided by the Custody
    aggregate; the command's reads are left out (P2 measures whole commands)."""
    handoff = Handoff(postgres_env(url, pool_size=8, group_commit=group_commit), secret_key=SECRET)
    counts = [0] * writers
    start = threading.Barrier(writers + 1)

    def save(n: int, until: list[float]) -> None:
        start.wait()
        child = 0
        while time.monotonic() < until[0]:
            child += 1
            day = BASE_DAY + timedelta(days=child // 1000)
            for events in afternoon(school, f"C{n:02d}{child:06d}", day):
                handoff.save(*events)
                counts[n] += len(events)
                if time.monotonic() >= until[0]:
                    break

    batches = getattr(handoff.recorder, "batches", 0)
    events_per_second = _run(save, counts, start, seconds)
    saves = sum(counts) / 2
    batches = getattr(handoff.recorder, "batches", 0) - batches
    handoff.close()
    return {"events_per_second": events_per_second, "saves_per_batch": saves / batches if batches else 1.0}


def p1(server_url: str, seconds: float, writers: int = 16) -> dict[str, Any]:
    with database(server_url, "p1_raw") as url:
        raw = raw_inserts(url, writers, seconds)
    with database(server_url, "p1_library") as url:
        library = service_saves(url, writers, seconds, group_commit=False)
    with database(server_url, "p1_group") as url:
        grouped = service_saves(url, writers, seconds, group_commit=True)
    return {"raw_commits_per_second": raw, "library": library, "group_commit": grouped}
