"""The school admin's page (/ui/report.html) in Chromium: the school's own figures, the same counts the district
page shows the bureau (only this school), and its disclosure log (who exported what, when, why); other roles are
refused in plain words; axe-core clean; screenshots in both languages."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import UiServer, shoot, sign_in
from tests.ui.test_district_page import COUNTS, DAY, add_child, serious, summary

pytestmark = pytest.mark.timeout(240)


def export(server: UiServer, who: str, path: str, **body: Any) -> None:
    answer = httpx2.post(
        f"{server.url}{path}",
        json={"device_id": "laptop-1", "device_time": server.clock.now.isoformat(), "day_from": DAY, "day_to": DAY,
              **body},  # fmt: skip
        headers={"Authorization": f"Bearer {server.tokens[who]}", "Idempotency-Key": uuid.uuid4().hex},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text


def disclosures(server: UiServer, reasons: set[str]) -> list[dict[str, Any]]:
    """The school's log once the views hold the exports with these reasons."""
    deadline = time.monotonic() + 20
    while True:
        answer = httpx2.get(
            f"{server.url}/api/v1/schools/S1/disclosures", headers={"Authorization": f"Bearer {server.tokens['admin']}"}
        )
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        if reasons <= {item["reason"] for item in items}:
            return items
        assert time.monotonic() < deadline, items
        time.sleep(0.1)


def test_the_admin_sees_the_schools_own_counts_and_its_disclosure_log(page: Page, ui_server: UiServer) -> None:
    add_child(ui_server, "C41")
    ui_server.hand_to_guardian("C41")
    export(ui_server, "regulator", "/api/v1/districts/D1/exports", reason="学区督导 district review")
    export(ui_server, "admin", "/api/v1/schools/S1/exports", reason="家长投诉核查", with_names=True)
    log = disclosures(ui_server, {"学区督导 district review", "家长投诉核查"})
    page.context.add_init_script("localStorage.setItem('handoff.lang', 'zh-CN')")
    sign_in(page, ui_server, "admin", "report")
    expect(page.locator("#district-view")).to_be_visible()
    bureau = summary(ui_server)  # the district page's numbers, as the regulator reads them
    mine = [item for item in bureau["items"] if item["school_id"] == "S1"]
    assert mine, "the day's check-ins are counted"
    for item in mine:
        row = page.locator(f'#summary tr[data-school="S1"][data-day="{item["service_day"]}"]')
        for name in COUNTS:
            expect(row.locator(f"td.{name}")).to_have_text(str(item[name]))
    expect(page.locator('#summary tr[data-school="S2"]')).to_have_count(0)
    expect(page.locator("#not-open")).not_to_contain_text("S2")

    rows = page.locator("#disclosures tbody tr")
    expect(rows).to_have_count(len(log))
    district_row = page.locator("#disclosures tbody tr", has_text="学区督导 district review")
    expect(district_row).to_contain_text("r1 (督导)")
    expect(district_row).to_contain_text("S1、S2")
    expect(district_row).to_contain_text("已化名")
    own_row = page.locator("#disclosures tbody tr", has_text="家长投诉核查")
    expect(own_row).to_contain_text("a1 (学校管理员)")
    expect(own_row).to_contain_text("含姓名")
    expect(own_row).to_contain_text(DAY)
    assert serious(page) == []
    shoot(page, "school-report-zh-CN", full_page=True)
    page.click("#lang")
    expect(page.locator("h1")).to_have_text("Our school's figures and disclosure log")
    expect(own_row).to_contain_text("a1 (school admin)")
    expect(own_row).to_contain_text("with names")
    assert serious(page) == []
    shoot(page, "school-report-en", full_page=True)


@pytest.mark.parametrize("who", ["duty_leader", "teacher", "gate"])
def test_other_roles_are_refused_in_plain_words(page: Page, ui_server: UiServer, who: str) -> None:
    page.context.add_init_script("localStorage.setItem('handoff.lang', 'zh-CN')")
    sign_in(page, ui_server, who, "report")
    expect(page.locator("#district-message")).to_contain_text("无法打开")
    expect(page.locator("#district-view")).to_be_hidden()
    expect(page.locator("#disclosure-panel")).to_be_hidden()
