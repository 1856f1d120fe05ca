"""Replay over HTTP: for duty leaders and admins of the school only, with an instant that carries its offset."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx2 import Response

from tests.api.conftest import Tablet
from tests.support import AFTERNOON, Clock

STATE = "/api/v1/schools/S1/replay/state"
WINDOW = "/api/v1/schools/S1/replay/window"
CHILD_DAY = "/api/v1/schools/S1/replay/children/C1"
CHECKED_IN = "2026-11-30T16:31:00+08:00"  # a minute after the check-in at 16:30 in Shanghai (AFTERNOON)


def get(tablet: Tablet, path: str, who: str | None = "duty_leader", **params: Any) -> Response:
    return tablet.client.get(path, params=params, headers=tablet.headers(who))


@pytest.fixture
def checked_in_then_transferred(tablet: Tablet, clock: Clock) -> Tablet:
    """C1 checked in with t1 at 16:30, transferred to t2 in T2 at 16:40 (Shanghai)."""
    assert tablet.post("check-in", {"place_code": "T1"}).status_code == 200
    clock.now = AFTERNOON + timedelta(minutes=10)
    moved = tablet.post("transfer", {"to_custodian_id": "t2", "to_place_code": "T2"})
    assert moved.status_code == 200
    return tablet


def test_without_a_token_replay_is_refused(checked_in_then_transferred: Tablet) -> None:
    assert get(checked_in_then_transferred, STATE, None, at=CHECKED_IN).status_code == 401


@pytest.mark.parametrize("who", ["gate", "teacher", "regulator", "other_school_teacher"])
@pytest.mark.parametrize("path", [STATE, WINDOW])
def test_only_duty_leaders_and_admins_of_the_school_may_replay(
    checked_in_then_transferred: Tablet, who: str, path: str
) -> None:
    refused = get(checked_in_then_transferred, path, who, at=CHECKED_IN)
    assert refused.status_code == 403
    assert refused.json()["code"] in ("role_not_allowed", "other_school")


def test_the_child_day_is_refused_to_a_teacher(checked_in_then_transferred: Tablet) -> None:
    assert get(checked_in_then_transferred, CHILD_DAY, "teacher", day="2026-11-30").status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"at": "2026-11-30T16:31:00"},
        {"at": "yesterday"},
        {"at": CHECKED_IN, "before": 241},
        {"at": CHECKED_IN, "after": -1},
    ],
)
def test_an_instant_without_offset_or_a_window_out_of_range_is_invalid(
    checked_in_then_transferred: Tablet, params: dict[str, Any]
) -> None:
    path = WINDOW if {"before", "after"} & set(params) else STATE
    invalid = get(checked_in_then_transferred, path, **params)
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "invalid_request"


@pytest.mark.parametrize("who", ["duty_leader", "admin"])
def test_the_state_as_of_an_instant(checked_in_then_transferred: Tablet, who: str) -> None:
    before = get(checked_in_then_transferred, STATE, who, at="2026-11-30T16:29:00+08:00")
    assert before.status_code == 200
    assert before.json()["children"] == []
    then = get(checked_in_then_transferred, STATE, who, at=CHECKED_IN).json()
    assert then["service_day"] == "2026-11-30"
    assert [(c["child_id"], c["status"], c["custodian_id"], c["place_code"]) for c in then["children"]] == [
        ("C1", "in_care", "t1", "T1")
    ]
    now = get(checked_in_then_transferred, STATE, who, at="2026-11-30T08:45:00Z").json()
    assert [(c["custodian_id"], c["place_code"], c["version"]) for c in now["children"]] == [("t2", "T2", 2)]


def test_the_child_day_and_the_window(checked_in_then_transferred: Tablet) -> None:
    day = get(checked_in_then_transferred, CHILD_DAY, day="2026-11-30")
    assert day.status_code == 200
    assert day.json()["events"] == checked_in_then_transferred.day("duty_leader").json()["history"]
    window = get(checked_in_then_transferred, WINDOW, at="2026-11-30T16:40:00+08:00", before=10, after=0, child="C1")
    assert window.status_code == 200
    body = window.json()
    assert (body["from"], body["to"]) == ("2026-11-30T16:30:00+08:00", "2026-11-30T16:40:00+08:00")
    assert [(e["type"], e["chain"]) for e in body["events"]] == [
        ("ChildCheckedIn", {"from": None, "to": "t1"}),
        ("ChildTransferred", {"from": "t1", "to": "t2"}),
    ]
    narrow = get(checked_in_then_transferred, WINDOW, at="2026-11-30T16:40:00+08:00", before=9, after=0)
    assert [e["type"] for e in narrow.json()["events"]] == ["ChildTransferred"]


def test_the_window_around_an_incident_for_investigators(checked_in_then_transferred: Tablet, clock: Clock) -> None:
    tablet = checked_in_then_transferred
    clock.now = AFTERNOON + timedelta(minutes=15)
    opening = {"kind": "missing_child", "children": ["C1"], "staff": ["t2"], "summary": "Not at T2"}
    assert tablet.post_school("incidents", {**opening, "incident_id": "m-1"}).status_code == 200
    path = "/api/v1/schools/S1/replay/incidents/m-1"
    found = get(tablet, path, before=10, after=5)
    assert found.status_code == 200, found.text
    window = found.json()
    assert (window["from"][:16], window["to"][:16]) == ("2026-11-30T08:35", "2026-11-30T08:50")
    assert [(c["child_id"], c["custodian_id"], c["place_code"]) for c in window["at_opening"]] == [("C1", "t2", "T2")]
    assert [(link["from"], link["to"]) for link in window["custody_chain"]["C1"]] == [(None, "t1"), ("t1", "t2")]
    assert [e["type"] for e in window["events"]] == ["ChildTransferred", "IncidentOpened"]
    assert get(tablet, "/api/v1/schools/S1/replay/incidents/nope").json()["code"] == "incident_not_found"
    assert get(tablet, path, "teacher").status_code == 403
    assert get(tablet, path, after=241).status_code == 422
