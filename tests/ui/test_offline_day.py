"""The gate tablet after a reload without network, in Chromium: the day's children are kept on the device (ids,
codes, statuses, classes and places, never a name, phone number or priority category), so a teacher still opens a
child's card and queues a check-in or a transfer, sent as hers when the network is back. Then every entry of the
device's storage (localStorage, sessionStorage, IndexedDB, Cache Storage) is read and searched for personal data."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from aggregates.staff import Role
from service.application.context import Actor, system_actor
from tests.support import DISTRICT, SCHOOL, TERM, ctx
from tests.ui.conftest import NAMED_CHILDREN, UiServer, _wait_for_views, choose_child, sign_in
from tests.ui.test_gate_and_board import WAIT_FOR_SERVICE_WORKER

pytestmark = pytest.mark.timeout(180)

FAMILIES = {
    "O01": ("欧阳小雨", ("欧阳春花", "13800138001"), ("欧阳建国", "13900139002"), ["left_behind"]),
    "O02": ("司马天天", ("司马丽", "13700137003"), ("司马强", "13600136004"), ["disability", "financial_difficulty"]),
}
"""Children of class T6 with named guardians, phone numbers and priority categories (all sealed on the server)."""

PERSONAL = [
    *(text for name, first, second, _ in FAMILIES.values() for text in (name, *first, *second)),
    *(name for name, _, (first, second) in NAMED_CHILDREN.values() for name in (name, first, second)),
    "disability",
    "left_behind",
    "migrant_worker_family",
    "financial_difficulty",
    "残疾",
    "留守",
    "随迁",
    "困难",
]

READ_DEVICE_STORAGE = """async () => {
  const found = [];
  for (const store of [localStorage, sessionStorage]) {
    for (let i = 0; i < store.length; i++) {
      found.push(`${store.key(i)}=${store.getItem(store.key(i))}`);
    }
  }
  for (const info of await indexedDB.databases()) {
    const db = await new Promise((ok, fail) => {
      const opening = indexedDB.open(info.name);
      opening.onsuccess = () => ok(opening.result);
      opening.onerror = () => fail(opening.error);
    });
    for (const name of db.objectStoreNames) {
      const all = db.transaction(name).objectStore(name).getAll();
      found.push(JSON.stringify(await new Promise((ok) => { all.onsuccess = () => ok(all.result); })));
    }
    db.close();
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      found.push(`${request.url}\\n${await (await cache.match(request)).text()}`);
    }
  }
  return found;
}"""


def family_of_t6(server: UiServer) -> None:
    handoff, admin = server.handoff, Actor("a1", Role.ADMIN, SCHOOL, DISTRICT)
    act = lambda: ctx(admin)  # noqa: E731
    handoff.setup.add_place(ctx(system_actor(SCHOOL)), "T6", "temporary_class", "临时6班", "Class 6")
    for child, (name, (first, phone1), (second, phone2), priority) in FAMILIES.items():
        handoff.roster.add_child(act(), child, "2-4", 2, name=name)
        handoff.guardian_list.authorise_guardian(act(), child, f"{child}A", "mother", "4071", name=first, phone=phone1)
        handoff.guardian_list.authorise_guardian(act(), child, f"{child}B", "father", "4072", name=second, phone=phone2)
        days = ["mon", "tue", "wed", "thu", "fri"]
        handoff.enrolments.apply_for_care(act(), child, TERM, f"{child}A", days, "B2", False, priority, "")
        handoff.enrolments.review_by_class(act(), child, TERM, True, "")
        handoff.enrolments.review_by_school(act(), child, TERM, True, "")
        handoff.enrolments.arrange(act(), child, TERM, "T6")
        guardians = [f"{child}A", f"{child}B"]
        handoff.enrolments.sign_agreement(
            act(), child, TERM, f"{child}A", guardians, None, date(2026, 9, 1), date(2027, 6, 30)
        )
    _wait_for_views(server)


def kept_on_device(page: Page, child: str) -> None:
    """Wait until the gate page has kept the day's children (the pages' CSP forbids wait_for_function's eval)."""
    for _ in range(100):
        if child in (page.evaluate("() => localStorage.getItem('handoff.day.S1')") or ""):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{child} was never kept on the device")


def personal_data_in(page: Page) -> list[str]:
    entries = page.evaluate(READ_DEVICE_STORAGE)
    assert any(entry.startswith("handoff.day.S1=") for entry in entries), "the day's children are kept"
    return [word for word in PERSONAL if any(word in entry for entry in entries)]


def test_after_a_reload_offline_a_child_is_opened_and_actions_are_queued_as_the_teacher(
    page: Page, ui_server: UiServer
) -> None:
    family_of_t6(ui_server)
    ui_server.post("O02", "check-in", {"place_code": "T6"})  # O02 is with t1, from another tablet
    sign_in(page, ui_server, "teacher", url=ui_server.tablet_url)
    page.evaluate(WAIT_FOR_SERVICE_WORKER)
    kept_on_device(page, "O02")
    choose_child(page, "欧阳", "O01")  # a name seen online stays in memory only
    expect(page.locator("#child-name")).to_have_text("欧阳小雨")

    ui_server.cable.unplug()
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("h1")).to_have_text("校门平板")
    page.fill("#search", "O0")
    expect(page.locator("#results button[data-child]")).to_have_count(2)
    expect(page.locator("#results")).to_contain_text("离线：只能按学号或班级查找")
    page.click('#results button[data-child="O01"]')
    expect(page.locator("#child .child-id")).to_have_text("O01")
    expect(page.locator("#child-name")).to_have_text("O01")  # no name on the device
    expect(page.locator("#check-in-place")).to_have_value("T6")
    page.click("#do-check-in")
    expect(page.locator("#result")).to_contain_text("离线：签到 · O01 已保存在本机")

    page.fill("#search", "T6")
    page.click('#results button[data-child="O02"]')
    expect(page.locator("#child-status")).to_have_text("在校看管中")
    page.select_option("#transfer-place", "T1")
    page.click("#do-transfer")
    expect(page.locator("#queue li.pending")).to_have_count(2)
    page.reload()
    page.fill("#search", "O01")
    page.click('#results button[data-child="O01"]')
    expect(page.locator("#child-status")).to_have_text("在校看管中")  # the kept card shows the waiting action
    assert personal_data_in(page) == []

    ui_server.cable.plug()
    page.context.set_offline(False)
    expect(page.locator("#queue li.pending")).to_have_count(0, timeout=10_000)
    device = page.evaluate("localStorage.getItem('handoff.device')")
    (checked_in,) = ui_server.history("O01")
    assert (checked_in["type"], checked_in["actor_id"], checked_in["device_id"]) == ("ChildCheckedIn", "t1", device)
    assert checked_in["details"]["place_code"] == "T6"
    moved = ui_server.history("O02")[-1]
    assert (moved["type"], moved["actor_id"], moved["device_id"]) == ("ChildTransferred", "t1", device)


def test_no_name_phone_or_priority_category_is_in_the_devices_storage(page: Page, ui_server: UiServer) -> None:
    sign_in(page, ui_server, "duty_leader", url=ui_server.tablet_url)
    page.evaluate(WAIT_FOR_SERVICE_WORKER)
    kept_on_device(page, "C11")
    choose_child(page, "李小明", "C11")
    expect(page.locator("#child-name")).to_have_text("李小明")  # names shown online
    for where in ("dismissal", "roll", "board"):
        page.goto(f"{ui_server.tablet_url}/ui/{where}.html")
        expect(page.locator("#who")).to_contain_text("d1")
        page.wait_for_timeout(1000)  # the page's first reads, names among them
    page.goto(f"{ui_server.tablet_url}/ui/gate.html")
    choose_child(page, "C1", "C12")
    assert personal_data_in(page) == []
