"""axe-core (shipped by the axe-playwright-python package) finds no serious or critical violation on any staff page,
in either language, with content on screen: the gate tablet with a child open, the dismissal queue with a guardian
waiting, the roll call and the duty board."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.ui.conftest import UiServer, choose_child, sign_in

pytestmark = pytest.mark.timeout(180)


def serious(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_no_serious_or_critical_violation_on_any_page(page: Page, ui_server: UiServer, lang: str) -> None:
    ui_server.post("C27", "check-in", {"place_code": "T1"}) if lang == "zh-CN" else None
    page.context.add_init_script(f"localStorage.setItem('handoff.lang', '{lang}')")
    found = {}
    sign_in(page, ui_server, "duty_leader", "board")
    expect(page.locator("#awaiting li").first).to_be_visible()
    found["board"] = serious(page)
    page.goto(page.url.replace("board.html", "gate.html"))
    choose_child(page, "C27", "C27")
    found["gate"] = serious(page)
    page.goto(page.url.replace("gate.html", "dismissal.html"))
    expect(page.locator("#waiting li").first).to_be_visible()
    found["dismissal"] = serious(page)
    page.goto(page.url.replace("dismissal.html", "roll.html"))
    expect(page.locator("#roll li").first).to_be_visible()
    found["roll"] = serious(page)
    page.goto(page.url.replace("roll.html", ""))
    found["sign-in"] = serious(page)
    assert found == {name: [] for name in found}
