"""The ASGI apps the HTTP benchmarks serve with `uvicorn --factory --workers N`: the Handoff API as `handoff serve`
builds it, with commands only (P2; the projector runs as a process of its own, as in compose.yaml) or with the views
and live streams too (P8, P9), and a bare FastAPI endpoint doing one INSERT per request, P2's baseline.

The Handoff server's clock is the real clock moved to the service day named in the file BENCH_CLOCK_FILE (an ISO
instant and the real time it was written), so that the benchmark can replay a dismissal on a school day of its
choosing, and move on to the next day, without waiting for one."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

from service.http.app import create_app
from service.infra.settings import Settings
from service.runtime import build_handoff, read_stack


class FileClock:
    """Real time, shifted to the instant written in a file (re-read when the file changes)."""

    def __init__(self, path: Path) -> None:
        self.path, self.stamp, self.shift = path, 0, timedelta(0)

    def __call__(self) -> datetime:
        stamp = self.path.stat().st_mtime_ns
        if stamp != self.stamp:
            instant, written = self.path.read_text().split()
            self.shift = datetime.fromisoformat(instant) - datetime.fromtimestamp(float(written), timezone.utc)
            self.stamp = stamp
        return datetime.now(timezone.utc) + self.shift


def set_clock(path: Path, instant: datetime) -> None:
    path.write_text(f"{instant.isoformat()} {time.time()}")


def handoff_app() -> FastAPI:
    settings = Settings()
    handoff = build_handoff(settings, settings.database_url)
    handoff.clock = FileClock(Path(os.environ["BENCH_CLOCK_FILE"]))
    return create_app(handoff, settings=settings)


def handoff_views_app() -> FastAPI:
    """The API as `handoff serve --no-projector` builds it: commands, the views (the gate's and the board's reads)
    and the live streams, which follow the projector's notices."""
    settings = Settings()
    handoff = build_handoff(settings, settings.database_url, FileClock(Path(os.environ["BENCH_CLOCK_FILE"])))
    stack = read_stack(handoff, settings.database_url, settings, with_projector=False)
    assert stack is not None, "the views need PostgreSQL"
    return create_app(handoff, stack.read, stack.watcher, settings)


class Row(BaseModel):
    device_id: str
    device_time: datetime
    payload: str


def bare_app() -> FastAPI:
    pool = ConnectionPool(os.environ["HANDOFF_DATABASE_URL"], min_size=8, max_size=16, kwargs={"autocommit": True})
    api = FastAPI()

    @api.post("/insert")
    def insert(row: Row) -> dict[str, Any]:
        with pool.connection() as conn:
            found = conn.execute(
                "INSERT INTO bare_rows (device_id, device_time, payload) VALUES (%s, %s, %s) RETURNING id",
                (row.device_id, row.device_time, row.payload),
            ).fetchone()
        return {"outcome": "recorded", "id": found[0] if found else None}

    return api
