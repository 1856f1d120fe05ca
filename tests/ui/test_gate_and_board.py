"""The gate tablet and the duty leader's board in Chromium: a whole handoff, a refusal, the offline queue, the live
board, the language switch, and the screenshots of both pages in both languages."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.ui.conftest import TABLET, UiServer, at_shanghai, choose_child, shoot, sign_in

WAIT_FOR_SERVICE_WORKER = """async () => {
  const late = new Promise((_, reject) => {
    setTimeout(() => reject(new Error("no active service worker after 45 s")), 45000);
  });
  await Promise.race([navigator.serviceWorker.ready, late]);
}"""
"""Until the pages are kept on the device: the service worker is active, its install having cached them. Not until
this page is controlled: a page whose load overlaps the worker's activation is never claimed (clients.claim() skips a
client that is not yet execution-ready), which happened under load; the next load, a reload or a sign-out, is served
by the worker all the same. (A string predicate would need eval, which the CSP forbids.)"""

pytestmark = pytest.mark.timeout(120)


def test_a_full_handoff_from_check_in_to_release(page: Page, ui_server: UiServer) -> None:
    sign_in(page, ui_server, "teacher")
    expect(page.locator("h1")).to_have_text("校门平板")
    choose_child(page, "李小明", "C11")
    expect(page.locator("#child-status")).to_have_text("未签到")

    page.select_option("#check-in-place", "T1")
    page.click("#do-check-in")
    expect(page.locator("#result")).to_have_text("已记录：签到 · C11")
    expect(page.locator("#child-status")).to_have_text("在校看管中")

    page.select_option("#transfer-place", "T2")
    page.select_option("#transfer-adult", "t1")
    page.click("#do-transfer")
    expect(page.locator("#result")).to_have_text("已记录：交接 · C11")

    page.click('#step-arrival button[data-guardian="C11A"]')
    page.fill("#pickup-code", "1234")
    page.click("#do-arrival")
    expect(page.locator("#result")).to_have_text("已记录：家长到达 · C11")

    expect(page.locator("#do-confirm")).to_be_disabled()
    page.locator("#guardian-recognised button.yes").click()
    page.locator("#child-recognised button.yes").click()
    page.click("#do-confirm")
    expect(page.locator("#result")).to_have_text("已记录：互相确认 · C11")

    expect(page.locator("#do-release")).to_have_text("交给 李芳 离校")
    page.click("#do-release")
    expect(page.locator("#result")).to_have_text("已记录：离校 · C11")
    expect(page.locator("#child-status")).to_have_text("已离校")
    expect(page.locator("#queue li.done")).to_have_count(5)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], "the gate page fits a 1024×768 tablet without sideways scrolling"


def test_the_gate_finds_a_child_by_the_home_class_title(page: Page, ui_server: UiServer) -> None:
    sign_in(page, ui_server, "gate")
    page.fill("#search", "三年级（2）班")
    expect(page.locator("#results button.result")).to_have_count(2)
    expect(page.locator('#results button[data-child="C31"]')).to_contain_text("三年级（2）班")
    choose_child(page, "三年级（2）班", "C32")
    expect(page.locator("#child")).to_contain_text("钱乐乐")


def test_a_wrong_pickup_code_is_refused_in_plain_words(page: Page, ui_server: UiServer) -> None:
    ui_server.post("C12", "check-in", {"place_code": "T1"})
    sign_in(page, ui_server, "gate")
    choose_child(page, "C12", "C12")
    page.click('#step-arrival button[data-guardian="C12B"]')
    page.fill("#pickup-code", "0000")
    page.click("#do-arrival")
    expect(page.locator("#result")).to_have_text("拒绝放行：接送码错误。不要放行，请再次核验家长身份。")
    expect(page.locator("#result")).to_have_attribute("role", "alert")
    expect(page.locator("#queue li.refused")).to_have_count(1)

    page.click("#lang")
    choose_child(page, "王小红", "C12")
    expect(page.locator("#do-release")).to_have_count(0)
    expect(page.locator("#not-mine")).to_contain_text("Now with t1: confirmation and release are for t1")


def test_the_offline_queue_is_kept_over_a_reload_and_replayed_in_order(page: Page, ui_server: UiServer) -> None:
    ui_server.hand_to_guardian("C13")
    sign_in(page, ui_server, "teacher", url=ui_server.tablet_url)
    page.evaluate(WAIT_FOR_SERVICE_WORKER)
    choose_child(page, "C1", "C15")
    choose_child(page, "C1", "C13")

    ui_server.cable.unplug()
    page.context.set_offline(True)
    expect(page.locator("#network")).to_have_text("离线")
    page.click('#results button[data-child="C13"]')
    page.click("#do-release")
    expect(page.locator("#result")).to_contain_text("离线：离校 · C13 已保存在本机")
    page.click('#results button[data-child="C15"]')
    page.select_option("#check-in-place", "T2")
    page.click("#do-check-in")
    expect(page.locator("#queue li.pending")).to_have_count(2)
    expect(page.locator("#pending-count")).to_have_text("待发送 2 条")

    page.reload()
    expect(page.locator("h1")).to_have_text("校门平板")
    expect(page.locator("#queue li.pending")).to_have_count(2)

    ui_server.post("C13", "release", {"guardian_id": "C13A"}, who="duty_leader", device="tablet-2")
    ui_server.cable.plug()
    page.context.set_offline(False)
    expect(page.locator("#queue li.pending")).to_have_count(0, timeout=10_000)
    done = page.locator('#queue li[data-state="done"]')
    expect(done).to_have_count(1)
    expect(done).to_contain_text("签到 · C15")
    rejected = page.locator('#queue li[data-state="rejected"]')
    expect(rejected).to_contain_text("离校 · C13")
    expect(rejected).to_contain_text("这名学生今天已经离校。已离校：16:30 在另一台设备（tablet-2）由 d1 记录。")
    expect(page.locator("#result")).to_contain_text("未被接受")
    keys = page.evaluate("JSON.parse(localStorage.getItem('handoff.queue.S1')).map(i => [i.kind, i.state])")
    assert keys[-2:] == [["release", "rejected"], ["check_in", "done"]], "sent in the order they were queued"


def test_the_board_shows_an_action_on_another_tablet_within_a_second(browser: Browser, ui_server: UiServer) -> None:
    board = browser.new_context(viewport=TABLET, timezone_id="America/New_York").new_page()
    gate = browser.new_context(viewport=TABLET).new_page()
    sign_in(board, ui_server, "duty_leader", "board")
    expect(board.locator("#live-state")).to_have_text("实时")
    expect(board.locator("#total-in_care")).not_to_have_text("–")
    before = int(board.locator("#total-in_care").inner_text())
    sign_in(gate, ui_server, "teacher")
    choose_child(gate, "杨帆", "C16")
    gate.click("#do-check-in")
    expect(gate.locator("#result")).to_have_text("已记录：签到 · C16")
    started = time.monotonic()
    expect(board.locator("#total-in_care")).to_have_text(str(before + 1), timeout=1000)
    assert time.monotonic() - started < 1.0
    expect(board.locator('#awaiting li[data-child="C16"]')).to_contain_text("杨帆")

    board.click("#headcount-box summary")
    board.select_option("#headcount-place", "T1")
    board.click("#headcount-load")
    board.locator('#headcount-children input[value="C16"]').uncheck()
    board.click("#headcount-record")
    expect(board.locator("#result")).to_contain_text("缺少 C16")
    missing = board.locator("#incidents li.missing_child", has_text="C16")
    expect(missing).to_contain_text("学生缺失")
    missing.get_by_role("textbox").fill("在图书室找到 found in the library")
    missing.get_by_role("button").click()
    expect(missing).to_have_count(0)

    board.click("#emergency-box summary")
    board.select_option("#emergency-point", "GATE")
    board.fill("#emergency-reason", "消防演练 fire drill")
    asked: list[str] = []
    board.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    board.click("#emergency-enter")
    board.wait_for_timeout(300)
    expect(board.locator("#emergency-banner")).to_be_hidden()  # said no: nothing happened
    board.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    board.click("#emergency-enter")
    expect(board.locator("#emergency-banner")).to_be_visible()
    expect(board.locator("#emergency-banner")).to_contain_text("应急模式")
    board.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    board.click("#emergency-leave")
    expect(board.locator("#emergency-banner")).to_be_hidden()
    assert asked[0].startswith("确定进入应急模式吗") and asked[2] == "确定结束应急模式吗？"
    board.click("#lang")
    expect(board.locator("#result")).to_have_text("Emergency mode ended")  # the result line follows the language
    board.click("#lang")
    summary = "document.querySelector('#incident-form-box summary')"
    marker = board.evaluate(f"getComputedStyle({summary}, '::before').content")
    assert marker == '"▸"', "a collapsed section shows that it opens"
    assert board.get_attribute("#awaiting", "tabindex") == "0", "the scrollable list is reached by keyboard"
    board.context.close()
    gate.context.close()


def test_the_language_switch_translates_every_label_and_is_kept(page: Page, ui_server: UiServer) -> None:
    sign_in(page, ui_server, "duty_leader", "board")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("值班看板")
    page.click("#lang")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Duty board")
    expect(page.locator("#lang")).to_have_text("中文")
    untranslated = page.evaluate(
        "[...document.querySelectorAll('[data-i18n]:not(#lang), [data-i18n-placeholder]')]"
        " .map(e => e.textContent + (e.placeholder ?? '')).filter(t => /[\\u4e00-\\u9fff]/.test(t))"
    )
    assert untranslated == []
    page.reload()
    expect(page.locator("h1")).to_have_text("Duty board")
    page.goto(page.url.replace("board.html", "gate.html"))
    expect(page.locator("h1")).to_have_text("Gate tablet")
    expect(page.locator("#search")).to_have_attribute("placeholder", "Name, number or class")
    page.click("#lang")
    expect(page.locator("h1")).to_have_text("校门平板")


def test_screenshots_of_the_gate_and_the_board_in_both_languages(browser: Browser, ui_server: UiServer) -> None:
    """A day in the demo: children arrive from 15:40, some leave, two are late, one incident is open."""
    clock = ui_server.clock
    for n, child in enumerate(("C17", "C18", "C19", "C20", "C21")):
        clock.now = at_shanghai(15, 40) + timedelta(minutes=12 * n)
        ui_server.post(child, "check-in", {"place_code": "T1" if n % 2 else "T2"})
    clock.now = at_shanghai(17, 5)
    ui_server.hand_to_guardian("C22")
    ui_server.post("C22", "release", {"guardian_id": "C22A"})
    ui_server.command(
        "incidents", {"kind": "injury", "children": ["C18"], "summary": "擦伤膝盖 grazed knee"}, "duty_leader"
    )
    clock.now = at_shanghai(17, 40)
    ui_server.post(
        "C19", "guardian-arrival", {"guardian_id": "C19B", "verification": "pickup_code", "pickup_code": "5678"}
    )
    try:
        for lang in ("zh-CN", "en"):
            context = browser.new_context(viewport=TABLET, timezone_id="America/New_York")
            context.add_init_script(f"localStorage.setItem('handoff.lang', '{lang}')")
            page = context.new_page()
            sign_in(page, ui_server, "duty_leader", "board")
            expect(page.locator('#awaiting li.late[data-child="C17"]')).to_be_visible()
            expect(page.locator("#chart svg path.line")).to_be_attached()
            expect(page.locator("#incidents li.incident").first).to_be_visible()
            shoot(page, f"board-{lang}")
            sign_in(page, ui_server, "teacher", "gate")
            choose_child(page, "C19", "C19")
            page.click('#step-confirm button.choice[data-guardian="C19B"]')
            page.locator("#guardian-recognised button.yes").click()
            shoot(page, f"gate-{lang}", full_page=True)
            context.close()
    finally:
        clock.now = at_shanghai(16, 30)


def test_a_wrong_token_is_refused_at_sign_in_in_plain_words(page: Page, ui_server: UiServer) -> None:
    page.goto(f"{ui_server.url}/ui/")
    page.fill("#school", "S1")
    page.fill("#token", "hs1.not.a.token")
    page.click("#open-gate")
    expect(page.locator("#signin-message")).to_have_text(
        "无法登录：令牌无效（未知、已撤销或已过期）。请向学校管理员申请新令牌。"
    )
    assert page.url.endswith("/ui/")
