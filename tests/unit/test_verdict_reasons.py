"""One list of reason codes for the three verifiers of bundles: the standalone verify.py (which `handoff verify`
runs in-process) names each problem by a code, the page's verifier gives the same codes, and the page says each in
both languages; the verify.py docstring lists them all."""

from __future__ import annotations

import re
from pathlib import Path

from replay import verify_bundle_standalone

ROOT = Path(__file__).parents[2]
UI = ROOT / "service/http/ui/js"
PAGE_ONLY = {"ed25519_unavailable", "witness_key_malformed"}  # what only the page meets: its browser, its form
PYTHON = Path(verify_bundle_standalone.__file__).read_text(encoding="utf-8")
PAGE = "".join(
    (UI / name).read_text(encoding="utf-8") for name in ("verify-bundle.js", "verify-proofs.js", "verify-witness.js")
)


def documented() -> set[str]:
    listed = verify_bundle_standalone.__doc__.split("`handoff verify` give: ", 1)[1].split(".\n", 1)[0]
    return {re.sub(r"\s*\(.*", "", code.strip(), flags=re.S) for code in re.split(r",\s+(?![^()]*\))", listed)}


def codes_in(source: str) -> set[str]:
    """The codes a verifier gives: each quoted word with an underscore that is the last argument of a say(...) or
    fail(...) call, or that `cosigned` answers."""
    calls = re.findall(r"\bcheck\.(?:say|fail)\((.*?)\)(?:\n|;| or\b|\s*$)", source, flags=re.S | re.M)
    found = {re.findall(r'"([a-z0-9_]+)"', call)[-1] for call in calls if re.findall(r'"([a-z0-9_]+)"', call)}
    return (
        found | set(re.findall(r'code="([a-z0-9_]+)"', source)) | set(re.findall(r'"(cosignature_[a-z]+)"', source))
    ) - {"bundle_wrong"}


def test_the_page_gives_exactly_the_codes_of_verify_py_and_its_docstring_lists_them() -> None:
    assert codes_in(PYTHON) == codes_in(PAGE) == documented()
    assert {"cosignature_missing", "cosignature_unpinned", "cosignature_invalid", "witness_key_missing"} <= documented()


def test_the_page_says_every_code_in_both_languages() -> None:
    words = (UI / "district-words.js").read_text(encoding="utf-8")
    zh, en = words.split("\n  en: {", 1)
    for language in (zh, en):
        assert set(re.findall(r'"verify\.reason\.([a-z0-9_]+)"', language)) == documented() | PAGE_ONLY
