"""The reads behind the staff pages, over HTTP: who may see children's names, how a child is found, and that the
pages are plain static files with no inline script or style (the Content-Security-Policy allows neither)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2
import pytest

from service.http.routes.ui import UI_FOLDER
from tests.ui.conftest import NAMED_CHILDREN, UiServer

CHILD_LEVEL = ["ui/children/C11", "ui/day", "ui/awaiting-pickup", "ui/on-site", "ui/school"]


def get(server: UiServer, path: str, who: str) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {server.tokens[who]}"}
    return httpx2.get(f"{server.url}/api/v1/schools/S1/{path}", headers=headers)


def search(server: UiServer, q: str, who: str) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {server.tokens[who]}"}
    return httpx2.post(f"{server.url}/api/v1/schools/S1/ui/children/search", json={"q": q}, headers=headers)


@pytest.mark.parametrize("who", ["regulator", "other_school_teacher"])
def test_only_staff_of_the_school_see_its_children(ui_server: UiServer, who: str) -> None:
    for path in [*CHILD_LEVEL, "ui/incidents"]:
        answer = get(ui_server, path, who)
        assert answer.status_code == 403, path
        assert "李小明" not in answer.text
    assert search(ui_server, "李小明", who).status_code == 403


def test_a_child_is_found_by_name_number_home_class_or_temporary_class(ui_server: UiServer) -> None:
    for query in ("李小明", "c11", "3-1", "T1"):
        found = search(ui_server, query, "gate").json()["items"]
        assert "C11" in [c["child_id"] for c in found], query
    assert search(ui_server, "nobody", "gate").json()["items"] == []


def test_a_child_is_found_by_the_home_class_title_as_people_write_it(ui_server: UiServer) -> None:
    """The roster's class title (三年级（2）班), not only its code 302; half- or full-width brackets alike."""
    for query in ("三年级（2）班", "三年级(2)班", "三年级（2"):
        found = search(ui_server, query, "gate").json()["items"]
        assert [(c["child_id"], c["home_class"], c["home_class_name"]) for c in found] == [
            ("C31", "302", "三年级（2）班"),
            ("C32", "302", "三年级（2）班"),
        ], query
    assert search(ui_server, "三年级（1）班", "gate").json()["items"] == []


def test_the_gate_card_names_the_guardians_without_their_phones(ui_server: UiServer) -> None:
    card = get(ui_server, "ui/children/C12", "gate").json()
    assert card["name"] == "王小红"
    assert [(g["guardian_id"], g["name"], g["authorised_today"]) for g in card["guardians"]] == [
        ("C12A", "王丽", True),
        ("C12B", "王军", True),
    ]
    assert "phone" not in str(card)


def test_the_day_a_tablet_keeps_holds_every_child_of_the_day_and_no_name(ui_server: UiServer) -> None:
    answer = get(ui_server, "ui/day", "gate")
    assert answer.status_code == 200, answer.text
    cards = {card["child_id"]: card for card in answer.json()["items"]}
    assert set(NAMED_CHILDREN) <= set(cards), "every child expected today"
    assert [g["guardian_id"] for g in cards["C11"]["guardians"]] == ["C11A", "C11B"]
    assert cards["C11"]["temporary_class"] == "T1" and cards["C11"]["custody"]["status"]
    names = {n for name, _, guardians in NAMED_CHILDREN.values() for n in (name, *guardians)}
    assert not [n for n in names if n in answer.text], "no child or guardian name"
    assert '"name"' not in answer.text


def test_gate_staff_do_not_read_incidents_back(ui_server: UiServer) -> None:
    assert get(ui_server, "ui/incidents", "gate").status_code == 403
    assert get(ui_server, "ui/incidents", "duty_leader").status_code == 200


def test_the_pages_are_served_and_hold_no_inline_script_or_style(ui_server: UiServer) -> None:
    assert httpx2.get(f"{ui_server.url}/", follow_redirects=False).headers["location"] == "/ui/"
    for page in ("", "gate.html", "board.html", "js/gate.js", "css/app.css", "sw.js"):
        assert httpx2.get(f"{ui_server.url}/ui/{page}").status_code == 200, page
    for html in Path(UI_FOLDER).glob("*.html"):
        text = html.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), html.name
        assert "<style" not in text and "style=" not in text, html.name
