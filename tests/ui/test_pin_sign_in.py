"""Sign-in on a shared tablet in Chromium: an admin enrols the tablet once with their token; then a teacher signs in
with staff number and PIN, and what they record names them and this tablet. Nothing but the tablet's own id and
secret is kept on it (no PIN, no name)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from aggregates.staff import Role
from service.application.context import Actor, system_actor
from tests.support import DISTRICT, SCHOOL, ctx
from tests.ui.conftest import UiServer, _wait_for_views, choose_child, enrol_in

pytestmark = pytest.mark.timeout(120)


def a_child_at_t5(server: UiServer) -> None:
    handoff, admin = server.handoff, Actor("a1", Role.ADMIN, SCHOOL, DISTRICT)
    handoff.setup.add_place(ctx(system_actor(SCHOOL)), "T5", "temporary_class", "临时5班", "Class 5")
    handoff.roster.add_child(ctx(admin), "P01", "2-3", 2, name="彭小飞")
    handoff.guardian_list.authorise_guardian(ctx(admin), "P01", "P01A", "mother", "4071")
    enrol_in(server, admin, "P01", "P01A", "T5")
    handoff.signin.set_pin(ctx(admin), "t2", "480516")
    _wait_for_views(server)


def test_a_teacher_signs_in_with_staff_number_and_pin_on_an_enrolled_tablet(page: Page, ui_server: UiServer) -> None:
    a_child_at_t5(ui_server)
    page.clock.set_fixed_time(ui_server.clock.now)
    page.goto(f"{ui_server.url}/ui/")
    expect(page.locator("#pin-form")).to_be_hidden()  # not enrolled: only the token sign-in
    page.fill("#school", SCHOOL)
    page.fill("#token", ui_server.tokens["admin"])
    page.click("#enrol-device")
    expect(page.locator("#pin-form")).to_be_visible()
    expect(page.locator("#signin-message")).to_have_text("本平板已登记：教职工现在可以用工号和 PIN 登录。")

    page.fill("#staff", "t2")
    page.fill("#pin", "000111")
    page.click("#pin-gate")
    expect(page.locator("#signin-message")).to_contain_text("工号或 PIN 错误")
    expect(page.locator("#signin-message")).to_contain_text("今天还可以再试 4 次")
    page.fill("#pin", "480516")
    page.click("#pin-gate")
    page.wait_for_url("**/ui/gate.html")
    expect(page.locator("#who")).to_have_text(f"{SCHOOL} · t2")
    stored = page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert "480516" not in stored and "彭" not in stored, "no PIN and no name on the tablet"

    choose_child(page, "P01", "P01")
    page.click("#do-check-in")
    expect(page.locator("#result")).to_have_text("已记录：签到 · P01")
    device = page.evaluate("localStorage.getItem('handoff.device')")
    (checked_in,) = ui_server.history("P01")
    assert (checked_in["actor_id"], checked_in["device_id"]) == ("t2", device)
