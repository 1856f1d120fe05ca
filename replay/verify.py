"""`handoff verify BUNDLE --key …`: the bundle's own standalone verifier, run in-process, so that the operator and a
regulator run exactly the same checks."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from replay import verify_bundle_standalone


@dataclass(frozen=True)
class Verdict:
    ok: bool
    report: str

    @property
    def reasons(self) -> list[str]:
        """The reason codes of the problems found, in the order found (none when verified)."""
        last = self.report.rstrip().rpartition("\n")[2]
        return [] if last == "reasons: none" else last.removeprefix("reasons: ").split()


def verify_bundle(bundle: Path, expected: Sequence[str | bytes], witnesses: Sequence[str] = ()) -> Verdict:
    """Every file, tree, proof and signature of `bundle`, against the expected keys (fingerprints or raw keys) and
    witness vkeys (each school's head must carry a pinned witness's cosignature)."""
    pins = [verify_bundle_standalone.pin(key) if isinstance(key, str) else key for key in expected]
    pinned = [verify_bundle_standalone.witness_key(vkey) for vkey in witnesses]
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        ok = verify_bundle_standalone.verify(bundle.resolve(), pins, witnesses=pinned) == 0
    return Verdict(ok, report.getvalue())
