"""The command API: a full handoff, idempotent retries, refusals, and the error mapping."""

from __future__ import annotations

from tests.api.conftest import Tablet


def hand_over(tablet: Tablet) -> None:
    assert tablet.post("check-in", {"place_code": "T1"}).status_code == 200
    arrival = {"guardian_id": "G1", "verification": "pickup_code", "pickup_code": "1234"}
    assert tablet.post("guardian-arrival", arrival, who="gate").json()["outcome"] == "recorded"
    both = {"guardian_id": "G1", "guardian_recognised_child": True, "child_recognised_guardian": True}
    assert tablet.post("confirmation", both).json()["outcome"] == "recorded"


def test_a_full_handoff_over_http_ends_released_with_its_history(tablet: Tablet) -> None:
    hand_over(tablet)
    released = tablet.post("release", {"guardian_id": "G1"})
    assert released.status_code == 200
    assert released.json()["custody"]["status"] == "released"
    day = tablet.day().json()
    assert [h["type"] for h in day["history"]] == [
        "ChildCheckedIn",
        "GuardianArrived",
        "GuardianAndChildConfirmed",
        "ChildReleased",
    ]
    assert day["history"][1]["actor_id"] == "g1"
    assert day["history"][0]["device_id"] == "tablet-7"


def test_a_retry_returns_the_original_answer_and_records_nothing(tablet: Tablet) -> None:
    first = tablet.post("check-in", {"place_code": "T1"}, key="tablet-7-0001")
    count = tablet.event_count()
    again = tablet.post("check-in", {"place_code": "T1"}, key="tablet-7-0001")
    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert tablet.event_count() == count


def test_the_same_key_with_another_body_gets_422(tablet: Tablet) -> None:
    tablet.post("check-in", {"place_code": "T1"}, key="tablet-7-0002")
    count = tablet.event_count()
    reused = tablet.post("check-in", {"place_code": "T2"}, key="tablet-7-0002")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert tablet.event_count() == count


def test_a_person_not_on_the_list_is_a_recorded_refusal_never_a_release(tablet: Tablet) -> None:
    tablet.post("check-in", {"place_code": "T1"})
    stranger = tablet.post("guardian-arrival", {"guardian_id": "X9", "verification": "id_document"}, who="gate")
    assert stranger.status_code == 200
    assert stranger.json()["outcome"] == "refused"
    assert stranger.json()["refusal"]["code"] == "guardian_not_authorised"
    assert "Do not release" in stranger.json()["refusal"]["message"]
    release = tablet.post("release", {"guardian_id": "X9"})
    assert release.status_code == 409
    assert release.json()["code"] == "not_confirmed"


def test_a_rule_broken_is_409_with_a_code_and_plain_words(tablet: Tablet) -> None:
    tablet.post("check-in", {"place_code": "T1"})
    count = tablet.event_count()
    twice = tablet.post("check-in", {"place_code": "T1"})
    assert twice.status_code == 409
    assert twice.json() == {
        "code": "child_already_in_care",
        "message": "This child is already checked in to after-school care today.",
    }
    assert tablet.event_count() == count


def test_self_release_before_the_agreed_time_is_refused(tablet: Tablet) -> None:
    tablet.post("check-in", {"place_code": "T1"}, child="C2")
    early = tablet.post("release", {"self_release": True}, child="C2")
    assert early.status_code == 409
    assert early.json()["code"] == "too_early_for_self_release"
    assert "17:00" in early.json()["message"]


def test_the_actor_comes_from_the_token_not_the_body(tablet: Tablet) -> None:
    spoof = tablet.post("check-in", {"place_code": "T1", "actor_id": "d1"})
    assert spoof.status_code == 422
    tablet.post("check-in", {"place_code": "T1"}, who="duty_leader")
    assert tablet.day().json()["history"][0]["actor_id"] == "d1"


def test_an_admin_manages_guardians_and_the_version_rises(tablet: Tablet) -> None:
    body = {"guardian_id": "G3", "relation": "grandmother", "pickup_code": "4721", "valid_until": "2026-11-30"}
    added = tablet.post("guardians", body, who="admin")
    assert added.status_code == 200
    version = added.json()["authorisation_version"]
    revoked = tablet.post("guardians/G3/revocation", {"reason": "court order"}, who="admin")
    assert revoked.json()["authorisation_version"] == version + 1
    assert "G3" not in [g["guardian_id"] for g in revoked.json()["guardians"]]


def test_a_duty_leader_corrects_a_check_in_entered_for_the_wrong_child(tablet: Tablet) -> None:
    tablet.post("check-in", {"place_code": "T1"})
    assert tablet.post("days/2026-11-30/correction", {"reason": "wrong child"}).status_code == 403
    corrected = tablet.post("days/2026-11-30/correction", {"reason": "wrong child"}, who="duty_leader").json()
    assert (corrected["custody"]["status"], corrected["custody"]["corrected"]) == ("expected", [1])
    history = tablet.day().json()["history"]
    assert [h["type"] for h in history] == ["ChildCheckedIn", "CustodyCorrected"]
    assert history[1]["details"]["reason"] == "wrong child" and history[1]["actor_id"] == "d1"
    again = tablet.post("days/2026-11-30/correction", {"reason": "undo"}, who="duty_leader")
    assert (again.status_code, again.json()["code"]) == (409, "nothing_to_correct")


def test_an_admin_gives_a_guardian_a_new_pickup_code_and_the_old_one_stops_working(tablet: Tablet) -> None:
    assert tablet.put_code("G1", "8305").status_code == 200
    tablet.post("check-in", {"place_code": "T1"})
    old = {"guardian_id": "G1", "verification": "pickup_code", "pickup_code": "1234"}
    assert tablet.post("guardian-arrival", old, who="gate").json()["refusal"]["code"] == "pickup_code_wrong"
    new = {**old, "pickup_code": "8305"}
    assert tablet.post("guardian-arrival", new, who="gate").json()["outcome"] == "recorded"
    assert tablet.put_code("G9", "8305").json()["code"] == "guardian_not_found"
