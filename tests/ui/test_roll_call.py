"""The class roll call in Chromium: a teacher opens a temporary class, ticks the children who are here, and one
submit checks them in and marks the others absent, each its own record with its own Idempotency-Key."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Browser, expect

from aggregates.custody import custody_id
from aggregates.staff import Role
from service.application.context import Actor, system_actor
from tests.support import DISTRICT, SCHOOL, ctx
from tests.ui.conftest import TABLET, UiServer, _wait_for_views, enrol_in, shoot, sign_in

pytestmark = pytest.mark.timeout(180)

CLASS = {"R01": "马小龙", "R02": "郑小雨", "R03": "谢小川", "R04": "韩小雪", "R05": "唐小宁"}


def a_class_of_five(server: UiServer) -> None:
    """Temporary class T3 (临时3班) with five children expected today."""
    handoff, admin = server.handoff, Actor("a1", Role.ADMIN, SCHOOL, DISTRICT)
    handoff.setup.add_place(ctx(system_actor(SCHOOL)), "T3", "temporary_class", "临时3班", "Class 3")
    for child, name in CLASS.items():
        handoff.roster.add_child(ctx(admin), child, "1-1", 1, name=name)
        handoff.guardian_list.authorise_guardian(ctx(admin), child, f"{child}A", "mother", "1234")
        enrol_in(server, admin, child, f"{child}A", "T3")
    _wait_for_views(server)


def test_one_submit_checks_the_ticked_in_and_marks_the_others_absent(browser: Browser, ui_server: UiServer) -> None:
    a_class_of_five(ui_server)
    for lang in ("zh-CN", "en"):
        context = browser.new_context(viewport=TABLET)
        context.add_init_script(f"localStorage.setItem('handoff.lang', '{lang}')")
        page = context.new_page()
        sign_in(page, ui_server, "teacher", "roll")
        page.select_option("#roll-class", "T3")
        expect(page.locator("#roll li.roll-child")).to_have_count(5)
        for child in ("R01", "R02", "R04"):
            page.check(f"#roll-{child}")
        shoot(page, f"roll-call-{lang}")
        if lang == "en":
            expect(page.locator("#roll-submit")).to_have_text("Submit the roll call: 3 checked in, 2 absent")
            page.click("#roll-submit")
            expect(page.locator("#result")).to_have_text("3 checked in to Class 3, 2 marked absent.")
            expect(page.locator("#roll input:disabled")).to_have_count(3)
            expect(page.locator("#roll-submit")).to_be_disabled()
        context.close()

    keys = set()
    for child in CLASS:
        (record,) = ui_server.history(child)
        expected = "ChildCheckedIn" if child in ("R01", "R02", "R04") else "ChildMarkedAbsent"
        assert (record["type"], record["actor_id"]) == (expected, "t1")
        if expected == "ChildCheckedIn":
            assert record["details"]["place_code"] == "T3"
        (event,) = ui_server.handoff.events.get(custody_id(SCHOOL, child, date(2026, 11, 30)))
        keys.add(event.idempotency_key)
    assert len(keys) == 5, "each check-in and absence is its own command, with its own Idempotency-Key"
