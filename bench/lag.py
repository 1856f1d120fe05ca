"""P3: commit-to-visible lag of the occupancy view at 500 events/s offered (bench/projection_lag.py), against the
floor any view must stand on: from the COMMIT of an INSERT with a NOTIFY to a listener hearing it."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg

from bench import projection_lag
from bench.common import database, percentile


def notify_floor(url: str, samples: int = 200, rate: float = 50.0) -> dict[str, float]:
    heard: dict[int, float] = {}
    ready = threading.Event()
    stop = threading.Event()

    def listen() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("LISTEN bench_floor")
            ready.set()
            while not stop.is_set():
                for notice in conn.notifies(timeout=0.2):
                    heard[int(notice.payload)] = time.perf_counter()

    listener = threading.Thread(target=listen)
    listener.start()
    ready.wait(10)
    committed: dict[int, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE floor_rows (id bigserial PRIMARY KEY, payload text)")
        for n in range(samples):
            with conn.transaction():
                conn.execute("INSERT INTO floor_rows (payload) VALUES ('x')")
                conn.execute("SELECT pg_notify('bench_floor', %s)", (str(n),))
            committed[n] = time.perf_counter()
            time.sleep(1 / rate)
    time.sleep(0.5)
    stop.set()
    listener.join()
    lags = [(heard[n] - committed[n]) * 1000 for n in committed if n in heard]
    return {"p50_ms": percentile(lags, 50), "p99_ms": percentile(lags, 99)}


def p3(template_url: str, server_url: str, seconds: float, rate: float = 500) -> dict[str, Any]:
    with database(server_url, "p3_floor") as url:
        floor = notify_floor(url)
    with database(server_url, "p3", template=template_url) as url:
        lag = projection_lag.measure(url, rate, seconds, 4)
    return {"offered_events_per_second": rate, **lag, "floor": floor}
