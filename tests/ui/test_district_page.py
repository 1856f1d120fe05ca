"""The district page (/ui/district.html) in Chromium: the district's regulator sees the summary's counts per school
and day, the chart and the weekdays on which a school recorded no service, in zh-CN and English; any other role is
refused in plain words; axe-core finds no serious or critical violation; screenshots in both languages."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx2
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from service.application.context import system_actor
from tests.support import SCHOOL, ctx, enrol
from tests.ui.conftest import UiServer, shoot

pytestmark = pytest.mark.timeout(180)
DAY = "2026-11-30"  # a Monday: the tests' server lives on it
COUNTS = ["children_served", "released", "absent", "late_pickups", "release_refusals", "corrections", "incidents"]


def summary(server: UiServer) -> dict[str, object]:
    answer = httpx2.get(
        f"{server.url}/api/v1/districts/D1/summary",
        params={"from": "2026-11-24", "to": DAY},
        headers={"Authorization": f"Bearer {server.tokens['regulator']}"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def open_page(page: Page, server: UiServer, who: str, lang: str = "zh-CN") -> None:
    page.context.add_init_script(f"localStorage.setItem('handoff.lang', '{lang}')")
    page.clock.set_fixed_time(server.clock.now)
    page.goto(f"{server.url}/ui/district.html")
    page.fill("#district-code", "D1")
    page.fill("#district-token", server.tokens[who])
    page.click("#district-open")


def add_child(server: UiServer, child: str) -> None:
    """A child of this test alone (the other tests' children keep their day), with guardian <child>A (code 1234)."""
    admin = ctx("admin").actor
    server.handoff.roster.add_child(ctx(admin), child, "3-1", 3, name="测试")
    server.handoff.guardian_list.authorise_guardian(ctx(admin), child, f"{child}A", "mother", "1234", name="测试家长")
    enrol(server.handoff, admin, SCHOOL, child, [f"{child}A"], None)


def serious(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def witnessed_cell(page: Page, school: str) -> Locator:
    return page.locator(f'#witnessed tr[data-school="{school}"] td.witnessed')


def test_each_schools_log_shows_when_it_was_last_witnessed_and_a_school_not_witnessed_stands_out(
    page: Page, ui_server: UiServer
) -> None:
    body = {"device_id": "laptop-1", "device_time": ui_server.clock.now.isoformat(), "reason": "见证检查"}
    export = httpx2.post(
        f"{ui_server.url}/api/v1/districts/D1/exports",
        json={**body, "day_from": DAY, "day_to": DAY},
        headers={"Authorization": f"Bearer {ui_server.tokens['regulator']}", "Idempotency-Key": uuid.uuid4().hex},
    )
    assert export.status_code == 200, export.text  # its fresh checkpoints went to the witness, which cosigned them
    ui_server.handoff.setup.register_school(ctx(system_actor("S9"), school="S9"), "新学校", "D1", "Asia/Shanghai")
    deadline = time.monotonic() + 30
    while "S9" not in (found := summary(ui_server))["schools"]:  # a new school of the district: never witnessed
        assert time.monotonic() < deadline, found
        time.sleep(0.1)
    s1 = found["witnessed"]["S1"]
    assert s1["outcome"] == "cosigned" and s1["tree_size"] > 0
    assert found["witnessed"]["S9"] == {"at": None, "tree_size": None, "outcome": None}

    open_page(page, ui_server, "regulator")
    beijing = datetime.fromisoformat(s1["at"]).astimezone(timezone(timedelta(hours=8))).strftime("%Y/%m/%d %H:%M")
    expect(witnessed_cell(page, "S1")).to_have_text(beijing)
    expect(witnessed_cell(page, "S1")).to_have_class("witnessed")
    expect(page.locator('#witnessed tr[data-school="S1"] td.size')).to_have_text(str(s1["tree_size"]))
    expect(page.locator('#witnessed tr[data-school="S1"] td.outcome')).to_have_text("已副署")
    expect(witnessed_cell(page, "S9")).to_have_text("⚠ 从未见证")
    expect(witnessed_cell(page, "S9")).to_have_class("witnessed stale")
    expect(page.locator('#witnessed tr[data-school="S9"] td.outcome')).to_have_text("没有提交")
    assert serious(page) == []

    page.clock.set_fixed_time(ui_server.clock.now + timedelta(days=2))  # two days on, and nothing cosigned since
    page.reload()
    expect(witnessed_cell(page, "S1")).to_have_text(f"⚠ 超过一天未见证（最近：{beijing}）")
    expect(witnessed_cell(page, "S1")).to_have_class("witnessed stale")
    page.click("#lang")
    expect(witnessed_cell(page, "S1")).to_have_text(
        f"⚠ not witnessed for over a day (last: {beijing[8:10]}/{beijing[5:7]}/{beijing[:4]}, {beijing[11:]})"
    )
    expect(witnessed_cell(page, "S9")).to_have_text("⚠ never witnessed")


def test_the_regulator_sees_the_summarys_counts_and_the_days_without_service(page: Page, ui_server: UiServer) -> None:
    add_child(ui_server, "C40")
    ui_server.hand_to_guardian("C40")
    ui_server.post("C40", "release", {"guardian_id": "C40A"})
    open_page(page, ui_server, "regulator")
    expect(page.locator("#district-view")).to_be_visible()
    expect(page.locator("#district-signin")).to_be_hidden()
    expect(page.locator("#who")).to_have_text("D1")
    expected = summary(ui_server)
    assert expected["items"], "the day's check-ins and releases are counted"
    for item in expected["items"]:
        row = page.locator(f'#summary tr[data-school="{item["school_id"]}"][data-day="{item["service_day"]}"]')
        for name in COUNTS:
            expect(row.locator(f"td.{name}")).to_have_text(str(item[name]))
    expect(page.locator("#district-chart svg rect.bar.served")).to_have_count(7 + 1)  # a bar a day, and the legend
    expect(page.locator("#not-open")).to_contain_text("S2：2026-11-30（周一）")
    expect(page.locator("#not-open")).not_to_contain_text("S1：2026-11-30")
    assert "C40" not in page.content() and "测试" not in page.content()
    assert page.evaluate("Object.keys(localStorage)").count("handoff.district") == 1
    assert serious(page) == []
    shoot(page, "district-zh-CN", full_page=True)


def test_the_page_in_english(page: Page, ui_server: UiServer) -> None:
    open_page(page, ui_server, "regulator", "en")
    expect(page.locator("h1")).to_have_text("District after-school supervision")
    expect(page.locator("#not-open")).to_contain_text("S2: 2026-11-30 (Mon)")
    expect(page.locator("#summary thead")).to_contain_text("Late pickups")
    assert serious(page) == []
    shoot(page, "district-en", full_page=True)
    page.click("#lang")
    expect(page.locator("h1")).to_have_text("学区课后服务督导")
    expect(page.locator("#not-open")).to_contain_text("S2：2026-11-30（周一）")


@pytest.mark.parametrize("who", ["admin", "duty_leader", "teacher"])
def test_other_roles_are_refused_in_plain_words(page: Page, ui_server: UiServer, who: str) -> None:
    open_page(page, ui_server, who)
    expect(page.locator("#district-message")).to_contain_text("无法打开")
    expect(page.locator("#district-view")).to_be_hidden()
    assert page.evaluate("localStorage.getItem('handoff.district')") is None
