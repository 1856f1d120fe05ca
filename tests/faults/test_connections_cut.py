"""A TCP proxy between Handoff and PostgreSQL cuts connections on purpose: right after a COMMIT of the command
path went up (an ambiguous commit: stored, but never acknowledged to the server), and in the middle of the
projector's result streams."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from tests.faults.checks import Tally, check_every_event, check_views
from tests.faults.conftest import Seeded
from tests.faults.harness import ApiProcess, Load, ProjectorProcess
from tests.faults.proxy import Link, Proxy, Verdict
from tests.faults.school import open_handoff


class CutAfterCommit:
    """Every `every`-th COMMIT sent by the command path is forwarded, then the connection is cut before the reply."""

    def __init__(self, every: int, most: int) -> None:
        self.every, self.most = every, most
        self.commits = self.cuts = 0
        self.lock = threading.Lock()
        self.armed = False
        """Off while the server starts (creating its tables is not retried: a cut there stops the start)."""

    def __call__(self, link: Link, data: bytes) -> Verdict:
        if not self.armed or b"COMMIT" not in data or (link.application_name or "").startswith("handoff-projector"):
            return Verdict.FORWARD
        with self.lock:
            self.commits += 1
            if self.cuts >= self.most or self.commits % self.every:
                return Verdict.FORWARD
            self.cuts += 1
        return Verdict.FORWARD_THEN_CUT


class CutMidStream:
    """Cuts the projector process's connections in the middle of what they carry: a result stream once it has
    brought a random 4-64 KiB, or a projector's page of view rows (more than 4 KiB sent in its transaction) before
    its COMMIT. At most `most` cuts of each kind."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.reads = self.writes = 0
        self.random = random.Random(9)
        self.limits: dict[int, int] = {}
        self.lock = threading.Lock()

    @property
    def cuts(self) -> int:
        return self.reads + self.writes

    def down(self, link: Link, data: bytes) -> Verdict:
        with self.lock:
            limit = self.limits.setdefault(id(link), self.random.randint(4096, 65536))
            if self.reads >= self.most or link.down < limit:
                return Verdict.FORWARD
            self.reads += 1
        return Verdict.CUT

    def up(self, link: Link, data: bytes) -> Verdict:
        projector = (link.application_name or "").startswith("handoff-projector")
        with self.lock:
            if not projector or self.writes >= self.most or link.up_since_commit < 4096 or b"COMMIT" not in data:
                return Verdict.FORWARD
            self.writes += 1
        return Verdict.CUT


@pytest.mark.timeout(150)
def test_commits_whose_acknowledgement_is_cut_off_are_answered_once_and_never_409(
    seeded: Seeded, tmp_path: Path, tally: Tally
) -> None:
    cutter = CutAfterCommit(every=3, most=40)
    proxy = Proxy(seeded.url, up=cutter)
    api = ApiProcess(proxy.url, tmp_path)
    api.start()
    cutter.armed = True
    load = Load(api.url, seeded.school)
    try:
        load.start()
        load.join()
        cutter.armed = False
        handoff = open_handoff(seeded.url, tmp_path)
        try:
            tally.requests, tally.faults = load.requests, cutter.cuts
            tally.events = check_every_event(handoff, load.commands, seeded.school.children)
            check_views(handoff, seeded.url, api.stop)
        finally:
            handoff.close()
    finally:
        api.stop()
        proxy.close()
    resolved = sum(1 for c in load.commands if c.attempts == 1 and c.answer and c.answer["replayed"])
    tally.notes.append(f"{resolved} ambiguous commits resolved by the server from the stored answer")
    assert cutter.cuts >= 20, "connections were cut right after their COMMIT"
    assert resolved > 0, "a commit whose acknowledgement was lost is answered from the stored answer, not 409"


@pytest.mark.timeout(150)
def test_the_projector_cut_off_mid_stream_resumes_with_views_equal_to_a_rebuild(
    seeded: Seeded, tmp_path: Path, tally: Tally
) -> None:
    cutter = CutMidStream(most=6)
    proxy = Proxy(seeded.url, up=cutter.up, down=cutter.down)
    api = ApiProcess(seeded.url, tmp_path, projector=False)
    api.start()
    projector = ProjectorProcess(proxy.url, tmp_path)
    projector.start()
    load = Load(api.url, seeded.school)
    try:
        load.start()
        load.join()
        handoff = open_handoff(seeded.url, tmp_path)
        try:
            tally.requests = load.requests
            tally.events = check_every_event(handoff, load.commands, seeded.school.children)

            def stop_writers() -> None:
                api.stop()
                projector.stop()

            check_views(handoff, seeded.url, stop_writers)
        finally:
            handoff.close()
    finally:
        api.stop()
        projector.stop()
        proxy.close()
    tally.faults = cutter.cuts
    tally.notes.append(f"{cutter.reads} result streams and {cutter.writes} pages of view rows cut")
    assert cutter.reads == cutter.writes == cutter.most, "the projector's connections were cut mid-stream"
