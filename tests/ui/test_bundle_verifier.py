"""The third verifier: the district page checks a bundle in Chromium (WebCrypto Ed25519, SubtleCrypto SHA-256),
without any request. One test runs all three verifiers, `handoff verify` (in-process), the bundle's own verify.py
(a bare Python) and the page, over the intact bundles and every attack of the tamper suite (the witness's
cosignature attacks included), another over an export from a forked log; each requires the same verdict from all
three: accepted or refused, and the same reason codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Page, Request, expect

from replay.checkpoints import load_or_create_signing_key
from replay.notes import fingerprint, raw_public_key
from replay.verify import verify_bundle
from service.application.handoff import Handoff
from tests.integration.conftest import clock, postgres_handoff  # noqa: F401
from tests.integration.test_export import DAY1, World, world  # noqa: F401
from tests.integration.test_export_tampering import ATTACKS, Forger, edit_readable_copy_restated
from tests.integration.test_witness import export_the_day, fork, grow_honestly
from tests.ui.conftest import UiServer, shoot
from tests.ui.test_district_page import serious
from tests.witness_support import VKEY, bureau_witness, served

pytestmark = pytest.mark.timeout(900)
Verdict = tuple[bool, tuple[str, ...]]


def by_cli(bundle: Path, key: str, witness: str = VKEY) -> Verdict:
    found = verify_bundle(bundle, [key], [witness] if witness else [])
    return found.ok, tuple(found.reasons)


def by_standalone(bundle: Path, key: str, witness: str = VKEY) -> Verdict:
    command = [sys.executable, "-I", str(bundle / "verify.py"), str(bundle), "--key", key]
    command += ["--witness-key", witness] if witness else []
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in run.stderr, run.stderr
    last = run.stdout.rstrip().rpartition("\n")[2]
    assert last.startswith("reasons: "), run.stdout
    return run.returncode == 0, tuple(last.removeprefix("reasons: ").split()) if last != "reasons: none" else ()


def by_page(page: Page, bundle: Path, key: str, witness: str = VKEY) -> Verdict:
    archive = bundle.parent / f"{bundle.parent.name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(bundle.iterdir()):
            zipped.write(path, path.name)
    page.evaluate("document.getElementById('verify-verdict').removeAttribute('data-verdict')")
    page.fill("#verify-key", key)
    page.fill("#verify-witness", witness)
    page.set_input_files("#verify-file", str(archive))
    verdict = page.locator("#verify-verdict[data-verdict]")
    expect(verdict).to_have_count(1, timeout=120_000)
    reasons = verdict.get_attribute("data-reasons") or ""
    return verdict.get_attribute("data-verdict") == "verified", tuple(reasons.split())


def all_three(page: Page, bundle: Path, key: str, witness: str = VKEY) -> tuple[Verdict, Verdict, Verdict]:
    return by_cli(bundle, key, witness), by_standalone(bundle, key, witness), by_page(page, bundle, key, witness)


def open_verifier(page: Page, server: UiServer, lang: str = "zh-CN") -> list[Request]:
    """The district page, not signed in (checking needs no sign-in); every request it makes from then on."""
    page.context.add_init_script(f"localStorage.setItem('handoff.lang', '{lang}')")
    page.goto(f"{server.url}/ui/district.html")
    expect(page.locator("#verify-panel")).to_be_visible()
    expect(page.locator("#verify-witness-where")).not_to_be_empty()  # the server's witness key has come, or not
    page.wait_for_load_state("networkidle")
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    return requests


def test_all_three_verifiers_give_the_same_verdict_on_the_whole_tamper_suite(
    page: Page,
    ui_server: UiServer,
    world: World,  # noqa: F811
    tmp_path: Path,
) -> None:
    original, key = tmp_path / "original", world.fingerprint()
    world.export(original / "bundle", pseudonymise=False, names=lambda school, child, token: {"name": "x"})
    world.export(original / "day1", DAY1, DAY1, pseudonymise=False, names=lambda school, child, token: None)
    world.export(tmp_path / "pseudonymised" / "bundle")
    requests = open_verifier(page, ui_server)

    intact = by_page(page, original / "bundle", key)
    assert intact == by_cli(original / "bundle", key) == by_standalone(original / "bundle", key) == (True, ())
    expect(page.locator("#verify-checks li.ok").first).to_be_visible()
    expect(page.locator("#verify-checks")).to_contain_text("is cosigned by a pinned witness: ok")
    assert serious(page) == []
    shoot(page, "district-verify-zh-CN", full_page=True)
    assert by_page(page, tmp_path / "pseudonymised" / "bundle", key) == (True, ())
    edit_readable_copy_restated(tmp_path / "pseudonymised" / "bundle", Forger(school_key=world.key))
    restated = by_page(page, tmp_path / "pseudonymised" / "bundle", key)
    assert restated == by_cli(tmp_path / "pseudonymised" / "bundle", key) == (False, ("copy_disagrees",))

    verdicts = {}
    for attack in ATTACKS:
        folder = tmp_path / attack.__name__
        shutil.copytree(original, folder)
        attack(folder / "bundle", Forger(Ed25519PrivateKey.generate(), world.key))
        three = all_three(page, folder / "bundle", key)
        verdicts[attack.__name__] = three
        assert three[0][0] is False and three[0][1], (attack.__name__, three)
    disagreeing = {name: three for name, three in verdicts.items() if len(set(three)) != 1}
    assert not disagreeing, disagreeing
    witnessed = {name: three[0][1] for name, three in verdicts.items() if "cosign" in name}
    assert witnessed == {
        "strip_cosignature": ("cosignature_missing",),
        "cosign_with_an_unpinned_key": ("cosignature_unpinned",),
        "move_cosignature_from_another_root": ("cosignature_invalid",),
    }
    unpinned = ("cosignature_unpinned", "witness_key_missing")
    assert all_three(page, original / "bundle", key, "") == ((False, unpinned),) * 3
    assert by_page(page, original / "bundle", "") == (False, ("no_expected_key",))
    assert requests == [], [r.url for r in requests]  # the bundles never left the page


def test_an_export_from_a_forked_log_fails_all_three_verifiers_alike(
    page: Page,
    ui_server: UiServer,
    postgres_handoff: Handoff,  # noqa: F811
    fresh_postgres_url: str,
    tmp_path: Path,
) -> None:
    """The fork test's export (a school server rewrote an earlier event and signed its tree again; the witness
    refused to cosign the fork): refused by all three, for want of the witness's cosignature of its head."""
    key, url = load_or_create_signing_key(tmp_path / "key.pem"), fresh_postgres_url
    with served(bureau_witness(tmp_path / "witness", key)) as witness:
        school, _, _ = grow_honestly(postgres_handoff, url, key, witness)
        export_the_day(postgres_handoff, url, key, school, tmp_path / "honest" / "bundle")
        fork(postgres_handoff, url, key, witness)
        export_the_day(postgres_handoff, url, key, school, tmp_path / "fork" / "bundle")
    requests = open_verifier(page, ui_server, "en")
    pinned = fingerprint(raw_public_key(key))
    assert all_three(page, tmp_path / "honest" / "bundle", pinned) == ((True, ()),) * 3
    assert all_three(page, tmp_path / "fork" / "bundle", pinned) == ((False, ("cosignature_missing",)),) * 3
    expect(page.locator("#verify-verdict")).to_contain_text("carries no witness cosignature at all")
    expect(page.locator("#verify-checks li.bad")).to_contain_text("is NOT (cosignature_missing)")
    assert requests == [], [r.url for r in requests]


def test_the_page_says_when_the_browser_has_no_ed25519(
    page: Page,
    ui_server: UiServer,
    world: World,  # noqa: F811
    tmp_path: Path,
) -> None:
    world.export(tmp_path / "x" / "bundle")
    page.add_init_script(
        "const real = crypto.subtle.importKey.bind(crypto.subtle);"
        "crypto.subtle.importKey = (f, k, a, ...rest) => a && a.name === 'Ed25519'"
        " ? Promise.reject(new DOMException('no', 'NotSupportedError')) : real(f, k, a, ...rest);"
    )
    open_verifier(page, ui_server, "en")
    assert by_page(page, tmp_path / "x" / "bundle", world.fingerprint()) == (False, ("ed25519_unavailable",))
    expect(page.locator("#verify-verdict")).to_contain_text("cannot verify Ed25519")


def test_the_verifier_in_english_with_the_servers_witness_key(
    page: Page,
    ui_server: UiServer,
    world: World,  # noqa: F811
    tmp_path: Path,
) -> None:
    world.export(tmp_path / "x" / "bundle")
    open_verifier(page, ui_server, "en")
    expect(page.locator("#verify-witness")).to_have_value(VKEY)  # this server's witness, prefilled
    where = page.locator("#verify-witness-where")
    expect(where).to_contain_text('the witness "witness.test/handoff" this server is configured with')
    expect(where).to_contain_text("handoff witness key")
    assert by_page(page, tmp_path / "x" / "bundle", world.fingerprint(), "not+a+vkey") == (
        False,
        ("witness_key_malformed",),
    )
    expect(page.locator("#verify-verdict")).to_contain_text("That is not a witness key")
    assert by_page(page, tmp_path / "x" / "bundle", world.fingerprint()) == (True, ())
    expect(page.locator("#verify-verdict")).to_contain_text("VERIFIED: every file")
    expect(page.locator("#verify-verdict")).to_contain_text("the witness cosigned each school's head checkpoint")
    assert serious(page) == []
    shoot(page, "district-verify-en", full_page=True)
    page.click("#lang")
    expect(where).to_contain_text("教育局公布的见证人公钥")
    expect(page.locator("#verify-verdict")).to_contain_text("已验证")
