"""Exports from the district page in Chromium: the inspector chooses a school, a range and a reason; the bundle is
fetched with the token in a header and saved from a Blob (no token or name in any URL); it verifies against the
fingerprint the page shows; the disclosure is recorded as over the API and shows in the page's disclosure log."""

from __future__ import annotations

import zipfile
from pathlib import Path

import httpx2
import pytest
from eventsourcing.utils import get_topic
from playwright.sync_api import Page, Request, expect

from events.audit import AuditExportMade
from replay.verify import verify_bundle
from tests.ui.conftest import UiServer, shoot
from tests.ui.test_district_page import DAY, open_page, serious
from tests.witness_support import VKEY

pytestmark = pytest.mark.timeout(240)


def disclosures_made(server: UiServer) -> list[AuditExportMade]:
    rows = server.handoff.recorder.select_notifications(1, 100_000, topics=[get_topic(AuditExportMade)])
    return [server.handoff.mapper.to_domain_event(row) for row in rows]


def test_the_inspector_downloads_a_bundle_that_verifies_and_sees_its_disclosure(
    page: Page, ui_server: UiServer, tmp_path: Path
) -> None:
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    before = len(disclosures_made(ui_server))
    open_page(page, ui_server, "regulator")
    fingerprint = httpx2.get(f"{ui_server.url}/api/v1/signing-keys").json()["current"]["fingerprint"]
    expect(page.locator("#key-fingerprint")).to_have_text(fingerprint)
    expect(page.locator(".key-box")).to_contain_text("handoff key show")
    page.select_option("#export-scope", "S1")
    page.fill("#export-from", DAY)
    page.fill("#export-to", DAY)
    page.fill("#export-reason", "督导检查 网页导出")
    with page.expect_download() as downloading:
        page.click("#export-download")
    download = downloading.value
    assert download.url.startswith("blob:"), download.url
    assert download.suggested_filename == f"handoff-export-S1-{DAY}-{DAY}.zip"
    archive = tmp_path / download.suggested_filename
    download.save_as(archive)
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(tmp_path / "bundle")
    verdict = verify_bundle(tmp_path / "bundle", [fingerprint], [VKEY])  # the test server submits to the witness
    assert verdict.ok, verdict.report
    expect(page.locator("#export-message")).to_contain_text(download.suggested_filename)

    made = disclosures_made(ui_server)[before:]
    assert [(m.actor_id, m.actor_role, m.schools, m.reason, m.pseudonymised) for m in made] == [
        ("r1", "regulator", ["S1"], "督导检查 网页导出", True)
    ]
    row = page.locator(f'#disclosures tr[data-disclosure="{made[0].originator_id}"]')
    expect(row).to_contain_text("督导检查 网页导出")
    expect(row).to_contain_text("r1 (督导)")
    expect(row).to_contain_text(DAY)
    expect(row).to_contain_text("已化名")

    token = ui_server.tokens["regulator"]
    assert not [r.url for r in requests if token in r.url or "督导" in r.url]
    (posted,) = [r for r in requests if r.url.endswith("/exports")]
    assert posted.method == "POST" and posted.url.endswith("/api/v1/schools/S1/exports")
    assert posted.headers["authorization"] == f"Bearer {token}" and posted.headers["idempotency-key"]
    assert serious(page) == []
    shoot(page, "district-export-zh-CN", full_page=True)


def test_a_district_export_in_english(page: Page, ui_server: UiServer, tmp_path: Path) -> None:
    open_page(page, ui_server, "regulator", "en")
    expect(page.locator("#export-scope")).to_have_value("")
    expect(page.locator("#export-scope option").first).to_have_text("The whole district (D1)")
    page.fill("#export-reason", "inspection")
    with page.expect_download() as downloading:
        page.click("#export-download")
    assert downloading.value.suggested_filename == f"handoff-export-D1-2026-11-24-{DAY}.zip"  # the range shown
    row = page.locator("#disclosures tbody tr").first
    expect(row).to_contain_text("inspection")
    expect(row).to_contain_text("S1, S2")
    expect(row).to_contain_text("r1 (inspector)")
    expect(page.locator("#export-message")).to_contain_text("recorded in the disclosure log")
    assert serious(page) == []
    shoot(page, "district-export-en", full_page=True)


def test_a_refused_export_says_why_and_records_nothing(page: Page, ui_server: UiServer) -> None:
    before = len(disclosures_made(ui_server))
    open_page(page, ui_server, "regulator")
    page.fill("#export-from", DAY)
    page.fill("#export-to", "2026-11-01")
    page.fill("#export-reason", "督导检查")
    page.click("#export-download")
    expect(page.locator("#export-message")).to_contain_text("未能导出")
    assert len(disclosures_made(ui_server)) == before
