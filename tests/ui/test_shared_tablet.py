"""A tablet shared by several staff members: an action queued offline is recorded as done by the person who did
it, or not at all, whoever signs in next; signing out with actions still waiting asks first."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import UiServer, choose_child, sign_in
from tests.ui.test_gate_and_board import WAIT_FOR_SERVICE_WORKER

pytestmark = pytest.mark.timeout(120)


def test_an_action_queued_before_a_sign_out_is_recorded_as_its_author_only(page: Page, ui_server: UiServer) -> None:
    sign_in(page, ui_server, "teacher", url=ui_server.tablet_url)
    page.evaluate(WAIT_FOR_SERVICE_WORKER)
    choose_child(page, "C23", "C23")
    ui_server.cable.unplug()
    page.context.set_offline(True)
    page.click("#do-check-in")
    expect(page.locator("#queue li.pending")).to_have_count(1)

    warnings: list[str] = []
    page.once("dialog", lambda dialog: (warnings.append(dialog.message), dialog.accept()))
    page.click("#signout")
    page.wait_for_url("**/ui/")
    assert warnings and "1" in warnings[0], "signing out with a waiting action asks first, saying how many"

    ui_server.cable.plug()
    page.context.set_offline(False)
    sign_in(page, ui_server, "duty_leader", url=ui_server.tablet_url)
    held = page.locator('#queue li[data-state="held"]')
    expect(held).to_contain_text("t1")
    page.wait_for_timeout(3500)  # a whole retry round of the queue
    assert [e["type"] for e in ui_server.history("C23")] == [], "never sent in the duty leader's name"

    page.click("#signout")
    page.wait_for_url("**/ui/")
    sign_in(page, ui_server, "teacher", url=ui_server.tablet_url)
    expect(page.locator('#queue li[data-state="done"]')).to_contain_text("C23")
    history = ui_server.history("C23")
    assert [(e["type"], e["actor_id"]) for e in history] == [("ChildCheckedIn", "t1")]
    assert history[0]["details"]["custodian_id"] == "t1"
