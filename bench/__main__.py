"""The benchmark suite: `python -m bench [--quick] [--only P1,P4] [--out BENCHMARKS.md]`.

Starts a durable embedded PostgreSQL (fsync, synchronous_commit and full_page_writes on) in a temporary folder
(HANDOFF_BENCH_DIR chooses where; HANDOFF_BENCH_DATABASE_URL uses a server of your own instead), runs P1-P10 (P10
starts a second embedded server, a second shard), and writes BENCHMARKS.md: every figure beside a baseline
measured in the same run on the same server. The full run takes about 12 minutes on 2 cores (P6 about 4, P8 and P9
about 2); --quick about 4, for development only (its figures are noisier)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.common import ROOT, demo_school, machine, server
from bench.report import write_report

SIZES = {
    "full": {"p1_seconds": 15, "p2_seconds": 20, "p3_seconds": 20, "p4_days": 20, "p5_children": 2000,
             "p5_samples": 10, "p6_events": 10_000_000, "p6_days": 2, "p8_seconds": 15, "p8_streams": 500,
             "p9_seconds": 15},
    "quick": {"p1_seconds": 4, "p2_seconds": 5, "p3_seconds": 8, "p4_days": 3, "p5_children": 400,
              "p5_samples": 5, "p6_events": 100_000, "p6_days": 1, "p8_seconds": 5, "p8_streams": 500,
              "p9_seconds": 5},
}  # fmt: skip


def run(only: set[str], size: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any], float]:
    from bench import big_log, gate_reads, http, lag, live, reads, shards, writes

    found: dict[str, Any] = {}
    began = time.monotonic()
    with server() as url:
        described = machine(url)
        if "P1" in only:
            found["P1"] = _timed("P1", lambda: writes.p1(url, size["p1_seconds"]))
        if "P10" in only:
            found["P10"] = _timed("P10", lambda: shards.p10(url, size["p1_seconds"]))
        with demo_school(url) as demo:
            if "P2" in only:
                found["P2"] = _timed("P2", lambda: http.p2(demo, url, size["p2_seconds"], before=True))
            if "P3" in only:
                found["P3"] = _timed("P3", lambda: lag.p3(demo, url, size["p3_seconds"]))
            if only & {"P4", "P7"}:
                both = _timed("P4/P7", lambda: reads.p4_p7(demo, url, size["p4_days"]))
                found.update({"P4": both["p4"], "P7": both["p7"]})
            if "P5" in only:
                found["P5"] = _timed("P5", lambda: reads.p5(url, size["p5_children"], size["p5_samples"]))
            if "P8" in only:
                found["P8"] = _timed("P8", lambda: live.p8(demo, url, size["p8_seconds"], size["p8_streams"]))
            if "P9" in only:
                found["P9"] = _timed("P9", lambda: gate_reads.p9(demo, url, size["p9_seconds"]))
            if "P6" in only:
                found["P6"] = _timed("P6", lambda: big_log.p6(demo, url, size["p6_events"], size["p6_days"]))
    return described, found, time.monotonic() - began


def _timed(name: str, work: Any) -> Any:
    began = time.monotonic()
    print(f"{name} …", file=sys.stderr, flush=True)
    result = work()
    print(f"{name} done in {time.monotonic() - began:.0f} s: {json.dumps(result, default=str)}", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs, for development")
    parser.add_argument("--only", default="P1,P2,P3,P4,P5,P6,P7,P8,P9,P10", help="which benchmarks, e.g. P1,P3")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--p6-events", type=int, help="events in P6's big log (10,000,000 in a full run)")
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    only = {name.strip().upper() for name in args.only.split(",")}
    size = {**SIZES[mode], **({"p6_events": args.p6_events} if args.p6_events else {})}
    described, found, seconds = run(only, size)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    args.out.write_text(write_report(described, found, mode, seconds, stamp), encoding="utf-8")
    print(f"wrote {args.out} ({mode} run, {seconds:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
