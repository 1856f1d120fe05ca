"""The duty leader's incidents in Chromium: repeated refusals for one child and one person are one incident with its
attempts, a missing child stands out at a glance and comes first, and what the policies opened is said in the
page's language (no raw codes on the Chinese board)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from aggregates.staff import Role
from service.application.context import Actor, system_actor
from tests.support import DISTRICT, SCHOOL, ctx
from tests.ui.conftest import TABLET, UiServer, _wait_for_views, enrol_in, sign_in

pytestmark = pytest.mark.timeout(180)

POLICIES = 20_000
"""Milliseconds the policy process (and the board's 15 s poll) may take to show an incident, under load."""


def two_children_at_t4(server: UiServer) -> None:
    handoff, admin = server.handoff, Actor("a1", Role.ADMIN, SCHOOL, DISTRICT)
    handoff.setup.add_place(ctx(system_actor(SCHOOL)), "T4", "temporary_class", "临时4班", "Class 4")
    for child in ("K01", "K02"):
        handoff.roster.add_child(ctx(admin), child, "2-2", 2, name=f"{child}童")
        handoff.guardian_list.authorise_guardian(ctx(admin), child, f"{child}A", "mother", "4071")
        enrol_in(server, admin, child, f"{child}A", "T4")
        server.post(child, "check-in", {"place_code": "T4"})
    _wait_for_views(server)


def test_refusals_are_grouped_and_a_missing_child_stands_out_in_both_languages(
    browser: Browser, ui_server: UiServer
) -> None:
    two_children_at_t4(ui_server)
    for code in ("0000", "1111"):  # one guardian, two wrong codes: one incident with two attempts
        wrong = {"guardian_id": "K01A", "verification": "pickup_code", "pickup_code": code}
        ui_server.post("K01", "guardian-arrival", wrong, who="gate", device="tablet-incidents")
    for _ in range(2):  # K02 missing at two headcounts: one missing-child incident
        ui_server.command("places/T4/headcounts", {"present": ["K01"]}, "duty_leader")

    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, ui_server, "duty_leader", "board")
    refusal = page.locator("#incidents li.unauthorised_pickup_attempt", has_text="K01")
    missing = page.locator("#incidents li.missing_child", has_text="K02")
    expect(refusal).to_contain_text("拒绝放行 2 次：接送码错误", timeout=POLICIES)
    expect(missing).to_contain_text("清点人数时有 1 名学生不在", timeout=POLICIES)
    expect(refusal).to_have_count(1)
    expect(missing).to_have_count(1)
    expect(page.locator("#incidents li").first).to_contain_text("⚠ 学生缺失")
    colour = "el => getComputedStyle(el).backgroundColor"
    assert missing.evaluate(colour) != refusal.evaluate(colour), "a missing child is told apart at a glance"
    assert "pickup_code_wrong" not in page.locator("#incidents").inner_text()

    page.click("#lang")
    expect(refusal).to_contain_text("Refused pickup attempts: 2 (wrong pickup code)")
    expect(missing).to_contain_text("1 children missing at a headcount")
    for found in (missing, refusal):  # leave the board as the other tests found it
        found.get_by_role("textbox").fill("checked")
        found.get_by_role("button").click()
        expect(found).to_have_count(0)
    context.close()
