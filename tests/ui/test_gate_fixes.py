"""The gate page at work, in Chromium: the pickup-code lock on the child's card and its lifting by a duty leader,
emergency mode shown on the gate page, the check-in place that defaults to the child's temporary class, a released
child's card that looks finished, and a child with another adult sent to the release point with one tap."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.ui.conftest import TABLET, UiServer, choose_child, sign_in

pytestmark = pytest.mark.timeout(120)


def test_the_lock_shows_on_the_card_with_attempts_left_and_a_duty_leader_lifts_it(
    page: Page, ui_server: UiServer
) -> None:
    ui_server.post("C24", "check-in", {"place_code": "T1"})
    sign_in(page, ui_server, "gate")
    choose_child(page, "C24", "C24")
    expect(page.locator("#attempts-left")).to_have_text("接送码还可输错 3 次，之后今天锁定。")
    for left in (2, 1, 0):
        page.click('#step-arrival button[data-guardian="C24B"]')
        page.fill("#pickup-code", "0000")
        page.click("#do-arrival")
        if left:
            expect(page.locator("#attempts-left")).to_contain_text(f"还可输错 {left} 次")
    expect(page.locator("#code-lock")).to_contain_text("接送码输入已锁定")
    expect(page.locator("#code-lock")).to_contain_text("请值班领导在本页解锁")
    expect(page.locator("#do-unlock")).to_have_count(0)

    page.click("#signout")
    sign_in(page, ui_server, "duty_leader")
    choose_child(page, "C24", "C24")
    page.fill("#unlock-reason", "家长已出示身份证 identity checked")
    page.click("#do-unlock")
    expect(page.locator("#code-lock")).to_have_count(0)
    expect(page.locator("#attempts-left")).to_contain_text("还可输错 3 次")
    assert ui_server.history("C24")[-1]["type"] == "PickupCodeEntryUnlocked"


def test_emergency_mode_shows_on_the_gate_page(page: Page, ui_server: UiServer) -> None:
    sign_in(page, ui_server, "teacher")
    expect(page.locator("#emergency-banner")).to_be_hidden()
    ui_server.command("emergency", {"reunification_point": "GATE", "reason": "消防演练 fire drill"}, "duty_leader")
    try:
        expect(page.locator("#emergency-banner")).to_be_visible(timeout=8000)
        expect(page.locator("#emergency-banner")).to_contain_text("应急模式")
        page.reload()
        expect(page.locator("#emergency-banner")).to_be_visible()
    finally:
        ui_server.command("emergency/end", {"reason": "演练结束 drill over"}, "duty_leader")
    expect(page.locator("#emergency-banner")).to_be_hidden(timeout=8000)


def test_check_in_defaults_to_the_temporary_class_and_a_released_card_looks_finished(
    page: Page, ui_server: UiServer
) -> None:
    sign_in(page, ui_server, "teacher")
    choose_child(page, "C25", "C25")
    expect(page.locator("#check-in-place")).to_have_value("T1")
    page.click("#do-check-in")
    expect(page.locator("#result")).to_have_text("已记录：签到 · C25")
    assert ui_server.history("C25")[-1]["details"]["place_code"] == "T1"
    expect(page.locator("#result")).to_be_in_viewport()

    ui_server.post("C25", "guardian-arrival", {"guardian_id": "C25A", "verification": "id_document"}, who="gate")
    confirmation = {"guardian_id": "C25A", "guardian_recognised_child": True, "child_recognised_guardian": True}
    ui_server.post("C25", "confirmation", confirmation)
    ui_server.post("C25", "release", {"guardian_id": "C25A"})
    choose_child(page, "C25", "C25")
    expect(page.locator("#finished")).to_be_visible()
    expect(page.locator("#child button")).to_have_count(0)
    expect(page.locator('#results button[data-child="C25"] .status')).to_have_text("已离校")


def test_a_child_with_another_adult_is_sent_to_the_release_point_with_one_tap(
    browser: Browser, ui_server: UiServer
) -> None:
    ui_server.post("C26", "check-in", {"place_code": "T1"})
    ui_server.post("C26", "guardian-arrival", {"guardian_id": "C26A", "verification": "id_document"}, who="gate")
    teacher = browser.new_context(viewport=TABLET).new_page()
    sign_in(teacher, ui_server, "teacher")
    waiting = teacher.locator('#my-queue li[data-guardian="C26A"]')
    expect(waiting).to_contain_text("高远")
    teacher.select_option("#release-adult", "t2")  # once a shift: who is at the release point
    waiting.locator("button.send").click()  # the one tap
    expect(waiting).to_have_count(0)
    moved = ui_server.history("C26")[-1]
    assert (moved["type"], moved["actor_id"]) == ("ChildTransferred", "t1")
    assert (moved["details"]["to_custodian_id"], moved["details"]["to_place_code"]) == ("t2", "GATE")

    gate = browser.new_context(viewport=TABLET).new_page()
    sign_in(gate, ui_server, "teacher2", "dismissal")
    expect(gate.locator("#release-guardian")).to_have_text("高雪")
    gate.click('.release-child[data-child="C26"] [data-question="guardian"] button.yes')
    gate.click('.release-child[data-child="C26"] [data-question="child"] button.yes')
    gate.click("#do-release-group")
    expect(gate.locator("#result")).to_contain_text("高雪")
    assert ui_server.history("C26")[-1]["type"] == "ChildReleased"
    teacher.context.close()
    gate.context.close()
