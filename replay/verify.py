"""`handoff verify BUNDLE`: everything the standalone verifier checks, and the Ed25519 signatures it cannot."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from replay import verify_bundle_standalone
from replay.checkpoints import Checkpoint, verify_checkpoint


@dataclass(frozen=True)
class Verdict:
    ok: bool
    report: str


def verify_bundle(bundle: Path) -> Verdict:
    """Trees, checkpoints and proofs (as the shipped verify.py checks them), then every checkpoint's signature."""
    report = io.StringIO()
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(report):
        trees_ok = verify_bundle_standalone.main(["verify.py", str(bundle), scratch]) == 0
    signatures_ok = _signatures(bundle, report)
    verdict = "VERIFIED: trees, proofs and signatures all check out." if trees_ok and signatures_ok else "NOT VERIFIED."
    report.write(f"\n{verdict}\n")
    return Verdict(trees_ok and signatures_ok, report.getvalue())


def _signatures(bundle: Path, report: io.StringIO) -> bool:
    try:
        key = load_pem_public_key((bundle / "public_key.pem").read_bytes())
        raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        found = [Checkpoint(**c) for c in json.loads((bundle / "checkpoints.json").read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError) as error:
        report.write(f"\nSignatures cannot be checked: {type(error).__name__}: {error}\n")
        return False
    bad = [c for c in found if not verify_checkpoint(raw, c)]
    for checkpoint in bad:
        report.write(
            f"\nSignature of {checkpoint.school_id}'s checkpoint of {checkpoint.tree_size} events is NOT valid.\n"
        )
    report.write(f"\nSignatures: {len(found) - len(bad)} of {len(found)} checkpoint(s) signed by this key.\n")
    return bool(found) and not bad
