"""BENCHMARKS.md from one run's figures: each beside its baseline from the same run, the ratio, the goal, whether
it is met, and what limits it now."""

from __future__ import annotations

import json
from typing import Any

Row = tuple[str, str, str, str, str, str, bool, str, str]


def _f(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def p1(r: dict[str, Any]) -> Row:
    raw, lib, group = r["raw_commits_per_second"], r["library"], r["group_commit"]
    ratio = group["events_per_second"] / raw
    return (
        "P1",
        "events committed/s through Handoff.save, 16 writer threads",
        f"{_f(group['events_per_second'])} events/s",
        f"{_f(raw)} raw single-row INSERT commits/s, 16 connections",
        f"{ratio:.2f}",
        "≥ 0.35",
        ratio >= 0.35,
        f"{_f(lib['events_per_second'])} events/s ({lib['events_per_second'] / raw:.2f})",
        f"{group['saves_per_batch']:.1f} saves per transaction: the commit is no longer the limit; the saving threads'"
        " Python (deciding, mapping to JSON) and one GIL shared with the writer thread are",
    )


def p2(r: dict[str, Any]) -> Row:
    h, bare = r["handoff"], r["bare"]
    ratio = h["requests_per_second"] / bare["requests_per_second"]
    half = h.get("half_rate")
    met = ratio >= 0.5 and half is not None and half["p99_ms"] < 50
    before = r.get("library")
    checked = h.get("checked", {})
    correct = all(checked.get(k) for k in ("log_matches_answers", "ids_without_gaps", "audit_matches_log"))
    at_half = (
        f"; at half that rate ({_f(half['offered_per_second'])}/s offered, paced, {_f(half['requests'])} commands)"
        f" p50 {_f(half['p50_ms'], 1)} ms, p99 {_f(half['p99_ms'], 1)} ms"
        if half
        else "; p99 at half that rate not measured"
    )
    return (
        "P2",
        f"gate commands/s over HTTP, {r['clients']} clients, dismissal mix (check-in, arrival with pickup code,"
        f" confirmation, release), {r['workers']} uvicorn workers + projector. Afterwards every 200 is one event in"
        f" the log, ids have no gaps, the audit view holds each change once: {'yes' if correct else '**NO**'}",
        f"{_f(h['requests_per_second'])}/s, p50 {_f(h['p50_ms'], 1)} ms, p99 {_f(h['p99_ms'], 1)} ms{at_half}",
        f"{_f(bare['requests_per_second'])}/s bare FastAPI + one INSERT (p50 {_f(bare['p50_ms'], 1)} ms, p99"
        f" {_f(bare['p99_ms'], 1)} ms)",
        f"{ratio:.2f}",
        "≥ 0.5; p99 < 50 ms at half the highest rate reached",
        met,
        f"{_f(before['requests_per_second'])}/s, p99 {_f(before['p99_ms'], 1)} ms" if before else "",
        "the application's CPU per command, not HTTP (httptools on uvloop made the bare endpoint faster, not"
        " Handoff): a command reads the token's staff stream, the log's changes since its cached position, the"
        " stored answer and the custody stream, then saves (school, staff, roster, guardians and enrolment come from"
        " a per-process cache invalidated by log position); about half of its CPU is in psycopg's round trips; the"
        " 2 cores are shared with PostgreSQL, the projector, its policies and notifier, and the load generator",
    )


def p3(r: dict[str, Any]) -> Row:
    floor = r["floor"]["p99_ms"]
    return (
        "P3",
        f"projection lag, commit to visible (occupancy), p99 at {_f(r['offered_events_per_second'])} events/s"
        f" offered ({_f(r['events_committed_per_second'])} committed)",
        f"p99 {_f(r['lag_ms_p99'], 1)} ms (p50 {_f(r['lag_ms_p50'], 1)} ms)",
        f"p99 {_f(floor, 1)} ms: COMMIT of INSERT + NOTIFY to a listener",
        f"{r['lag_ms_p99'] / floor:.1f}× the floor" if floor else "",
        "p99 < 25 ms",
        r["lag_ms_p99"] < 25,
        "",
        "one transaction per page for every read model (it used to be one per model), not waiting for the disk;"
        " what is left is the wake-up, the page's read and CPU shared with the writers",
    )


def p4(r: dict[str, Any]) -> Row:
    raw = r["read_and_decode_events_per_second"]
    every = r.get("rebuild_together_events_per_second", r["rebuild_all_events_per_second"])
    apart = r["rebuild_all_events_per_second"]
    slowest = r["events"] / max(r["rebuild_seconds"].values())
    return (
        "P4",
        f"rebuild of every read model from position zero, log of {_f(r['events'])} events: all"
        f" {len(r['rebuild_seconds'])} models together, from one reading of the log (in brackets: the slowest model"
        " alone; every model one after the other)",
        f"{_f(every)} events/s ({_f(slowest)} events/s; {_f(apart)} events/s)",
        f"{_f(raw)} events/s reading and decoding the log",
        f"{every / raw:.2f} ({slowest / raw:.2f}; {apart / raw:.2f})",
        "≥ 0.5 for all models together",
        every / raw >= 0.5,
        "",
        "each event is decoded once, but every model writes its rows statement by statement (about four statements"
        " per event handled, each executed by the server in turn within the page's transaction): the server's time"
        " per statement, not Python, sets the pace",
    )


def p5(r: dict[str, Any]) -> Row:
    return (
        "P5",
        f"custody of every child as of an instant, a {_f(r['children'])}-child school day"
        f" ({_f(r['custody_events'])} custody events, {_f(r['events_in_log'])} in the log)",
        f"p95 {_f(r['p95_ms'])} ms (p50 {_f(r['p50_ms'])} ms)",
        f"p95 {_f(r['read_and_decode_p95_ms'])} ms reading and decoding those custody events",
        f"{r['p95_ms'] / r['read_and_decode_p95_ms']:.2f}",
        "p95 < 150 ms",
        r["p95_ms"] < 150,
        "",
        "decoding the day's events (the library's mapper) and folding them in Python: the scan reads only the part"
        " of the log from the day's start to the instant (found by bisecting the log), so it no longer grows with"
        " the log; here every event of the day precedes the instant, the worst case",
    )


def p6(r: dict[str, Any]) -> Row:
    kinds = [("commands", "big_p99_ms", "small_p99_ms")] + [
        (kind, f"big_{kind}_p99_ms", f"small_{kind}_p99_ms") for kind in ("board", "gate") if f"big_{kind}_p99_ms" in r
    ]
    ratios = {kind: r[big] / r[small] for kind, big, small in kinds}
    reads = r.get("reads_each", {})
    return (
        "P6",
        f"p99 with {_f(r['big_log_events'])} events stored (COPY of real rows, in {r['copy_seconds']:.0f} s),"
        f" against {_f(r['small_log_events'])}: {_f(r['commands_each'])} whole commands, 8 threads"
        + (
            f"; the board's reads (occupancy, the day's incidents, a roll call: {_f(reads['board'])}) and the gate's"
            f" (search, child card, awaiting pickup, dismissal queue: {_f(reads['gate'])}), 4 threads, views caught up"
            if reads
            else ""
        ),
        ", ".join(f"{kind} p99 {_f(r[big], 1)} ms" for kind, big, _ in kinds),
        ", ".join(f"{kind} p99 {_f(r[small], 1)} ms" for kind, _, small in kinds) + " with the small log",
        ", ".join(f"{kind} {ratio:.2f}" for kind, ratio in ratios.items()),
        "≤ 1.2 at 10M events, reads included (the worst of the ratios)",
        max(ratios.values()) <= 1.2 and r["big_log_events"] >= 10_000_000,
        "",
        "nothing in the command path or the pages' reads scans the log from its start: stream reads use the primary"
        " key, a command reads only the log's changes since its cache's position, the index's questions go to the"
        " views; p99 is set by commit waits and CPU noise"
        + ("" if r["big_log_events"] >= 10_000_000 else "; this run's big log is smaller than the goal's 10M"),
    )


def p7(r: dict[str, Any]) -> Row:
    return (
        "P7",
        f"export verification, the standalone verify.py as its own process, {_f(r['events'])} events in the signed"
        f" tree, {_f(r.get('shown_in_full', r['events']))} of them shown in full and checked against their leaves (the"
        " rest, stored answers of commands, as hashes)",
        f"{_f(r['verify_events_per_second'])} events/s",
        f"{_f(r['tree_only_events_per_second'])} events/s building the same RFC 6962 tree alone",
        f"{r['verify_events_per_second'] / r['tree_only_events_per_second']:.2f}",
        "≥ 50,000 events/s",
        r["verify_events_per_second"] >= 50_000,
        "",
        "decoding each shown line and its leaf (JSON) in pure Python, standard library only by design; two reader"
        " processes on two cores shared with the verifier's own hashing",
    )


def p8(r: dict[str, Any]) -> Row:
    none, busy, held = r["none"], r["open"], r["held"]
    ratio = busy["p99_ms"] / none["p99_ms"]
    streams = r["streams"]
    live = held["statuses"].get("200", 0) == streams and held["still_open"] == streams
    answered = _all_200(none) and _all_200(busy)
    sent = held["updates_during_load"] / held["held_seconds"]
    return (
        "P8",
        f"command p99 with {_f(streams)} live streams open (the duty board's occupancy, server-sent events, duty"
        f" leader's and admin's tokens) against none, the same paced dismissal of {_f(r['offered_per_second'])}"
        f" commands/s offered, 2 uvicorn workers with the views + projector. The streams read"
        f" {_f(held['updates_during_load'])} updates while open (at least {_f(held['updates_per_stream_min'])} each),"
        f" all open to the end: {'yes' if live else '**NO**'}; every command answered 200:"
        f" {'yes' if answered else '**NO**'}",
        f"p99 {_f(busy['p99_ms'], 1)} ms (p50 {_f(busy['p50_ms'], 1)} ms), {_f(busy['requests_per_second'])}/s,"
        f" {_f(streams)} streams",
        f"p99 {_f(none['p99_ms'], 1)} ms (p50 {_f(none['p50_ms'], 1)} ms), {_f(none['requests_per_second'])}/s,"
        " no stream",
        f"{ratio:.2f}",
        "≤ 1.3",
        ratio <= 1.3 and live and answered,
        "",
        "a school's newest state at most twice a second per worker (one snapshot query), framed once and handed as"
        f" the same bytes to every stream of the school, 20 per turn of the event loop: {_f(sent)} stream writes/s"
        " here, each one socket write past the middlewares' send wrappers (about 35 µs), on the event loop that also"
        " parses and answers the commands, under the GIL their threads run in. What is left is that p99 of a few"
        " hundred commands moves by tens of milliseconds on 2 shared cores"
        + (
            f"; the API's processes used {none['api_cpu_per_second']:.2f} CPU-seconds a second with no stream,"
            f" {busy['api_cpu_per_second']:.2f} with {_f(streams)}"
            if "api_cpu_per_second" in busy
            else ""
        )
        + "; the process reading the streams shares the 2 cores"
        + (
            f" (it used {held['reader_cpu_seconds'] / held['held_seconds']:.0%} of one)"
            if "reader_cpu_seconds" in held
            else ""
        ),
    )


def p9(r: dict[str, Any]) -> Row:
    idle, loaded, load = r["idle"], r["during_load"], r["load"]
    kinds = ", ".join(f"{kind} {_f(p99, 1)}" for kind, p99 in loaded["p99_ms_by_kind"].items())
    slowest = max(loaded["p99_ms_by_kind"], key=loaded["p99_ms_by_kind"].get)
    answered = _all_200(idle) and _all_200(loaded)
    return (
        "P9",
        "the gate's reads (search by number, child card, awaiting pickup, dismissal queue), paced at"
        f" {_f(r['offered_reads_per_second'])} reads/s offered from a process of their own, during P2's dismissal"
        f" ({_f(load['requests_per_second'])} commands/s reached, p99 {_f(load['p99_ms'], 1)} ms), 2 uvicorn workers"
        f" with the views + projector. Every read answered 200: {'yes' if answered else '**NO**'}",
        f"p99 {_f(loaded['p99_ms'], 1)} ms (p50 {_f(loaded['p50_ms'], 1)} ms; p99 by read: {kinds} ms),"
        f" {_f(loaded['requests'])} reads",
        f"p99 {_f(idle['p99_ms'], 1)} ms (p50 {_f(idle['p50_ms'], 1)} ms), the same reads with the server idle",
        f"{loaded['p99_ms'] / idle['p99_ms']:.2f}",
        "p99 < 30 ms",
        loaded["p99_ms"] < 30 and answered,
        "",
        f"the slowest read is {slowest} (p99 {_f(loaded['p99_ms_by_kind'][slowest], 1)} ms). Idle, every read is a"
        " few round trips (a list opens its children's names with one read of keys, their roster entries from the"
        " process's cache); under a load that saturates the 2 cores, a read waits in the same queue as the commands"
        " (the event loop, the workers' thread pools, PostgreSQL), so its p99 follows the commands' p99",
    )


def _all_200(run: dict[str, Any]) -> bool:
    """Whether every request of a run was answered 200 (its statuses are counted as "kind status")."""
    return all(key.endswith(" 200") for key in run.get("statuses", {}))


def p10(r: dict[str, Any]) -> Row:
    one, two, workers = r["one_shard"], r["two_shards"], r["one_shard_two_workers"]
    return (
        "P10",
        "events committed/s with two shards (two PostgreSQL clusters, a writer process each) against one",
        f"{_f(two)} events/s ({' + '.join(_f(each) for each in r['per_shard'])} per shard)",
        f"{_f(one)} events/s, one shard, one writer process; {_f(workers)} with two writer processes",
        f"{two / one:.2f}",
        "> 1 (the second shard adds capacity)",
        two > one,
        "",
        "2 cores shared by both clusters and both writer processes: each shard's Python and PostgreSQL compete for"
        " the same CPU, so the per-shard figure is a floor for a shard on a machine of its own",
    )


ROWS = {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5, "P6": p6, "P7": p7, "P8": p8, "P9": p9, "P10": p10}


def write_report(machine: dict[str, str], found: dict[str, Any], mode: str, seconds: float, stamp: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python -m bench{' --quick' if mode == 'quick' else ''}` on {stamp}, a {mode} run of"
        f" {seconds / 60:.1f} minutes. Every figure is set beside a baseline measured in the same run on the same"
        ' server; "before" is the library\'s own PostgreSQL recorder (`HANDOFF_GROUP_COMMIT=0`), measured in the'
        " same run too. PostgreSQL is durable: fsync, synchronous_commit and full_page_writes on.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine.items()),
        "",
        "## Results",
        "",
        "| | what | figure | baseline (same run) | ratio | goal | met | before (library recorder) | what limits it"
        " now |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, row in ROWS.items():
        if key in found:
            cells = row(found[key])
            lines.append("| " + " | ".join([*cells[:6], "yes" if cells[6] else "**no**", *cells[7:]]) + " |")
    lines += [
        "",
        "## Raw figures",
        "",
        "<details><summary>JSON</summary>",
        "",
        "```json",
        json.dumps(found, indent=1, default=str),
        "```",
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)
