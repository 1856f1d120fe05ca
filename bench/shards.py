"""P10: write throughput with one shard and with two, in one run: events committed per second through Handoff.save
(as in P1, 16 writer threads to a process), where each shard is a PostgreSQL cluster of its own.

Three runs of the same length: one shard with one writer process; one shard with two writer processes (what a second
API worker adds without a second shard); two shards with one writer process each. A process stands for an API
worker: writers of different shards never share a Python interpreter, as in a deployment. On this machine the two
clusters and the two processes share its cores, so the per-shard figure of the two-shard run is a floor for what
one shard does on a machine of its own."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from typing import Any

from bench.common import SECRET, database, server
from bench.writes import service_saves
from service.application.handoff import Handoff
from service.infra.settings import postgres_env

WRITERS = 16
SETTLE = 4.0
"""Seconds for the writer processes to start before they begin together."""


def _writer(url: str, seconds: float, start_at: float, found: Any, school: str) -> None:
    time.sleep(max(0.0, start_at - time.time()))
    found.put(service_saves(url, WRITERS, seconds, group_commit=True, school=school)["events_per_second"])


def concurrently(urls: Sequence[str], seconds: float) -> list[float]:
    """Events/s of one writer process per URL, all writing at once."""
    for url in set(urls):  # make the tables once: two processes creating them at once collide in PostgreSQL's catalog
        Handoff(postgres_env(url), secret_key=SECRET).close()
    spawn = multiprocessing.get_context("spawn")
    found = spawn.Queue()
    start_at = time.time() + SETTLE
    processes = [
        spawn.Process(target=_writer, args=(url, seconds, start_at, found, f"bench-school-{n}"))
        for n, url in enumerate(urls)
    ]  # a school each: two writer processes on one shard must not write the same streams
    for process in processes:
        process.start()
    rates = [found.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join()
    return rates


def p10(server_url: str, seconds: float) -> dict[str, Any]:
    with database(server_url, "p10_one") as url:
        one = concurrently([url], seconds)
    with database(server_url, "p10_one_two_workers") as url:
        one_two_workers = concurrently([url, url], seconds)
    with server() as second_server, database(server_url, "p10_a") as a, database(second_server, "p10_b") as b:
        two = concurrently([a, b], seconds)
    return {
        "one_shard": sum(one),
        "one_shard_two_workers": sum(one_two_workers),
        "two_shards": sum(two),
        "per_shard": two,
    }
