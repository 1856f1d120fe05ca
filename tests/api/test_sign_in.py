"""Sign-in on a shared tablet over HTTP: an admin enrols the tablet once, a PIN is set by an admin or by the staff
member, staff sign in with staff number and PIN; wrong PINs are counted, recorded and locked per staff number and per
tablet; the session names the person and the tablet, and commands under it must come from that tablet."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import Tablet
from tests.support import SCHOOL

TIME = "2026-11-30T16:30:00+08:00"


def enrol(tablet: Tablet, device: str = "tablet-7") -> str:
    answer = tablet.post_school("devices", {"device_id": device}, who="admin")
    assert answer.status_code == 200, answer.text
    assert answer.json()["device_id"] == device
    return answer.json()["device_secret"]


def set_pin(tablet: Tablet, staff: str, pin: str, who: str = "admin"):
    body = {"device_id": "tablet-7", "device_time": TIME, "pin": pin}
    return tablet.client.put(f"/api/v1/schools/{SCHOOL}/staff/{staff}/pin", json=body, headers=tablet.headers(who))


def sign_in(tablet: Tablet, secret: str, staff: str, pin: str, device: str = "tablet-7"):
    body = {"device_id": device, "device_secret": secret, "device_time": TIME, "staff_id": staff, "pin": pin}
    return tablet.client.post(f"/api/v1/schools/{SCHOOL}/sign-in", json=body)


def log_text(tablet: Tablet) -> str:
    rows = tablet.handoff.recorder.select_notifications(1, 100_000)
    return "\n".join(row.state.decode() if isinstance(row.state, bytes) else str(row.state) for row in rows)


def test_staff_sign_in_with_staff_number_and_pin_on_an_enrolled_tablet(tablet: Tablet) -> None:
    secret = enrol(tablet)
    assert set_pin(tablet, "t1", "480516").status_code == 200
    answer = sign_in(tablet, secret, "t1", "480516")
    assert answer.status_code == 200, answer.text
    session = answer.json()
    assert (session["staff_id"], session["role"]) == ("t1", "teacher")
    check_in = {"device_id": "tablet-7", "device_time": TIME, "place_code": "T1"}
    headers = tablet.headers(None) | {"Authorization": f"Bearer {session['token']}"}
    done = tablet.client.post(f"/api/v1/schools/{SCHOOL}/children/C1/check-in", json=check_in, headers=headers)
    assert done.status_code == 200, done.text
    recorded = tablet.day(child="C1").json()["history"][-1]
    assert (recorded["actor_id"], recorded["device_id"]) == ("t1", "tablet-7"), "the event names both"
    elsewhere = {**check_in, "device_id": "tablet-8"}
    refused = tablet.client.post(f"/api/v1/schools/{SCHOOL}/children/C2/check-in", json=elsewhere, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "other_device")
    stored = log_text(tablet)
    assert "480516" not in stored and secret not in stored and session["token"] not in stored
    assert "scrypt$" in stored, "the PIN is stored only as a salted scrypt hash"


def test_staff_set_their_own_pin_only(tablet: Tablet) -> None:
    assert set_pin(tablet, "t1", "480516", who="teacher").status_code == 200
    refused = set_pin(tablet, "t2", "480516", who="teacher")
    assert (refused.status_code, refused.json()["code"]) == (403, "own_pin_only")
    weak = set_pin(tablet, "t1", "123456", who="teacher")
    assert (weak.status_code, weak.json()["code"]) == (422, "invalid_request")
    assert "too easy to guess" in weak.text


def test_a_tablet_not_enrolled_cannot_sign_in_and_records_nothing(tablet: Tablet) -> None:
    secret = enrol(tablet)
    set_pin(tablet, "t1", "480516")
    before = tablet.event_count()
    for device, key in (("tablet-8", secret), ("tablet-7", "x" * 43)):
        refused = sign_in(tablet, key, "t1", "480516", device=device)
        assert (refused.status_code, refused.json()["code"]) == (401, "device_not_enrolled")
    assert tablet.event_count() == before
    assert enrol(tablet) != secret
    assert sign_in(tablet, secret, "t1", "480516").status_code == 401, "enrolling again replaces the secret"


def test_wrong_pins_are_counted_recorded_and_lock_the_staff_number_for_the_day(tablet: Tablet) -> None:
    secret = enrol(tablet)
    set_pin(tablet, "t1", "480516")
    for left in (4, 3, 2, 1, 0):
        before = tablet.event_count()
        wrong = sign_in(tablet, secret, "t1", "111112")
        assert (wrong.status_code, wrong.json()["code"]) == (401, "wrong_pin")
        assert f"{left} more tries" in wrong.json()["message"]
        assert wrong.json()["tries_left"] == left, "the pages say it in their own language"
        assert tablet.event_count() > before, "every wrong PIN is recorded"
    locked = sign_in(tablet, secret, "t1", "480516")
    assert (locked.status_code, locked.json()["code"]) == (429, "sign_in_locked")
    assert "staff number" in locked.json()["message"]
    assert "SignInLocked" in json.dumps([r.topic for r in tablet.handoff.recorder.select_notifications(1, 10_000)])
    set_pin(tablet, "t2", "480516")
    assert sign_in(tablet, secret, "t2", "480516").status_code == 200, "another staff number still signs in"


@pytest.mark.parametrize("staff", ["t2", "nobody"])
def test_wrong_tries_from_one_tablet_lock_the_tablet(tablet: Tablet, staff: str) -> None:
    secret = enrol(tablet)
    set_pin(tablet, "d1", "480516")
    for n in range(10):
        assert sign_in(tablet, secret, f"{staff}" if n % 2 else "t1", "111112").status_code == 401
    locked = sign_in(tablet, secret, "d1", "480516")
    assert (locked.status_code, locked.json()["code"]) == (429, "sign_in_locked")
    assert "tablet" in locked.json()["message"]


def test_a_retried_enrolment_keeps_the_first_secret_and_never_shows_it_again(tablet: Tablet) -> None:
    body = {"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00"}
    url = f"/api/v1/schools/{SCHOOL}/devices"
    first = tablet.client.post(url, json=body, headers=tablet.headers("admin", key="enrol-once"))
    before = tablet.event_count()
    again = tablet.client.post(url, json=body, headers=tablet.headers("admin", key="enrol-once"))
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.json()["device_secret"] is None, "a retry must not hand out a second secret"
    assert tablet.event_count() == before, "a retry records nothing"
    set_pin(tablet, "t1", "402917")
    signed_in = sign_in(tablet, first.json()["device_secret"], "t1", "402917")
    assert signed_in.status_code == 200, "the first secret still works"
