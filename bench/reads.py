"""P4 rebuild speed, P5 state as of an instant, P7 export verification: the read side, each against the raw
reading (and decoding, or hashing) of the same events measured in the same run."""

from __future__ import annotations

import dataclasses
import json
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import BASE_DAY, SECRET, afternoon, database, percentile
from projections.log import EventLog
from projections.rebuild import rebuild, rebuild_together
from projections.registry import READ_MODELS
from replay import verify_bundle_standalone
from replay.checkpoints import load_or_create_signing_key, sign_checkpoint
from replay.cosignatures import cosign, witness_vkey
from replay.days import DayCache
from replay.export import export_bundle
from replay.leaves import Salts, leaf_bytes, school_of
from replay.merkle import TreeBuilder
from replay.notes import raw_public_key
from replay.state import custody_as_of
from service.application.handoff import Handoff
from service.demo.seed import DEMO_SCHOOL
from service.infra.settings import postgres_env

WRITERS = 16


def save_afternoons(handoff: Handoff, school: str, children: list[str], days: list[datetime]) -> int:
    """Every child's afternoon (check-in, arrival, confirmation, release, each with its answer) on every day,
    saved by 16 threads through the application; returns the events saved."""
    work = [(child, day) for day in days for child in children]
    counts = [0] * WRITERS

    def save(n: int) -> None:
        for child, day in work[n::WRITERS]:
            for events in afternoon(school, child, day):
                handoff.save(*events)
                counts[n] += len(events)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def read_and_decode(log: EventLog, page: int = 2000) -> int:
    """The raw baseline: every event of the log read in pages and decoded, nothing else."""
    after, count = 0, 0
    while batch := log.page(after, page):
        for notification in batch:
            log.decode(notification)
        count += len(batch)
        after = batch[-1].id
    return count


def p4_p7(template_url: str, server_url: str, days: int) -> dict[str, Any]:
    """A log of the demo school over `days` school days; rebuild every read model; export and verify it."""
    with database(server_url, "p4", template=template_url) as url:
        handoff = Handoff(postgres_env(url), secret_key=SECRET)
        children = [f"C{n:04d}" for n in range(1, 241) if n % 10]
        dates = [BASE_DAY + timedelta(days=7 * week) for week in range(days)]
        save_afternoons(handoff, DEMO_SCHOOL, children, dates)
        log = EventLog(handoff.recorder, handoff.mapper)
        size = log.head()
        began = time.perf_counter()
        assert read_and_decode(log) == size
        raw = time.perf_counter() - began
        per_model = {}
        for model in READ_MODELS.values():
            began = time.perf_counter()
            rebuild(model, url, log)
            per_model[model.name] = time.perf_counter() - began
        began = time.perf_counter()
        rebuild_together(list(READ_MODELS.values()), url, log)  # as `handoff project rebuild` does
        together = time.perf_counter() - began
        p7 = _export_and_verify(log, dates[0], dates[-1])
        handoff.close()
    every = sum(per_model.values())
    return {
        "p4": {
            "events": size,
            "read_and_decode_events_per_second": size / raw,
            "rebuild_all_events_per_second": size / every,
            "rebuild_together_events_per_second": size / together,
            "rebuild_seconds": {name: round(seconds, 2) for name, seconds in per_model.items()},
        },
        "p7": p7,
    }


def _export_and_verify(log: EventLog, first: datetime, last: datetime) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="handoff-bench-export-") as folder:
        return _export_and_verify_in(Path(folder), log, first, last)


def _export_and_verify_in(scratch: Path, log: EventLog, first: datetime, last: datetime) -> dict[str, Any]:
    key, salts = load_or_create_signing_key(scratch / "key.pem"), Salts(secrets.token_bytes(32))
    leaves, after = [], 0
    while page := log.page(after, 2000):
        leaves += [leaf_bytes(n, salts) for n in page if school_of(n) == DEMO_SCHOOL]
        after = page[-1].id
    began = time.perf_counter()
    tree = TreeBuilder()
    for leaf in leaves:
        tree.append(leaf)
    baseline = time.perf_counter() - began
    checkpoint = sign_checkpoint(key, DEMO_SCHOOL, tree.size, tree.root(), last.isoformat())
    witness = Ed25519PrivateKey.generate()  # the bureau's witness cosigns the head, as bundles must carry (#20)
    line = cosign(witness, "bench.witness/handoff", checkpoint.note, int(time.time()))
    checkpoint = dataclasses.replace(checkpoint, note=checkpoint.note + line)
    witness_key = witness_vkey("bench.witness/handoff", raw_public_key(witness))
    bundle = scratch / "bundle"
    export_bundle(log, bundle, [DEMO_SCHOOL], first.date(), last.date(), [checkpoint], key, salts=salts)
    lines = (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()
    shown = sum(1 for line in lines if '"leaf":' in line)
    pinned = verify_bundle_standalone.fingerprint(raw_public_key(key))
    command = [sys.executable, "-I", str(bundle / "verify.py"), str(bundle), "--key", pinned]
    began = time.perf_counter()  # as a regulator runs it: the bundle's own verify.py, a process of its own
    report = subprocess.run([*command, "--witness-key", witness_key], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    assert report.returncode == 0, report.stdout[-2000:] + report.stderr[-2000:]
    return {
        "events": tree.size,
        "lines": len(lines),
        "shown_in_full": shown,
        "verify_events_per_second": tree.size / seconds,
        "tree_only_events_per_second": tree.size / baseline,
        "bundle_bytes": sum(f.stat().st_size for f in bundle.iterdir()),
    }


def p5(server_url: str, children: int, samples: int) -> dict[str, Any]:
    """A school day of `children` children (four custody events each, with their answers), then custody as of
    `samples` instants of the afternoon, against reading and decoding that day's custody events."""
    school = "bench-school"
    with database(server_url, "p5") as url:
        handoff = Handoff(postgres_env(url), secret_key=SECRET)
        names = [f"C{n:05d}" for n in range(1, children + 1)]
        saved = save_afternoons(handoff, school, names, [BASE_DAY])
        log = EventLog(handoff.recorder, handoff.mapper)
        custody_events = sum(1 for _ in _custody(log, school))
        latencies, raw, days = [], [], DayCache()  # as the service keeps one per process
        for n in range(samples):
            at = BASE_DAY + timedelta(seconds=n * 240 / samples)
            began = time.perf_counter()
            rows = custody_as_of(log, school, at, "Asia/Shanghai", days)
            latencies.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            sum(1 for _ in _custody(log, school))
            raw.append((time.perf_counter() - began) * 1000)
        assert rows
        handoff.close()
    return {
        "children": children,
        "events_in_log": saved,
        "custody_events": custody_events,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "first_ms": latencies[0],
        "again_p95_ms": percentile(latencies[1:], 95),
        "read_and_decode_p95_ms": percentile(raw, 95),
    }


def _custody(log: EventLog, school: str) -> Any:
    from replay.state import school_custody_events

    return school_custody_events(log, school)


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)
