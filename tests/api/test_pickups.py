"""A pickup code alone (POST …/pickups): it names one guardian, registered at once for every child of theirs in care
today; a code nobody holds is refused and counted by the gate guard (tests/security/test_code_guessing.py), one several
guardians hold is refused and nothing is recorded."""

from __future__ import annotations

from tests.api.conftest import Tablet
from tests.support import SCHOOL, ctx


def pickup(tablet: Tablet, code: str, key: str | None = None, who: str = "gate"):
    return (
        tablet.post_school("pickups", {"pickup_code": code}, who=who)
        if key is None
        else tablet.client.post(
            f"/api/v1/schools/{SCHOOL}/pickups",
            json={"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00", "pickup_code": code},
            headers=tablet.headers(who, key),
        )
    )


def siblings_in_care(tablet: Tablet) -> None:
    """C1 and C2 in care; G1 (code 1234) collects both."""
    tablet.handoff.guardian_list.authorise_guardian(ctx("admin"), "C2", "G1", "parent", "1234")
    for child in ("C1", "C2"):
        assert tablet.post("check-in", {"place_code": "T1"}, child=child).status_code == 200


def test_a_code_alone_registers_its_guardian_for_every_child_in_care(tablet: Tablet) -> None:
    siblings_in_care(tablet)
    answer = pickup(tablet, "1234")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["guardian_id"] == "G1"
    assert [(c["child_id"], c["result"]) for c in body["children"]] == [("C1", "arrived"), ("C2", "arrived")]
    for child in ("C1", "C2"):
        day = tablet.day(child=child).json()
        assert day["custody"]["arrived_guardians"] == ["G1"]
        arrived = day["history"][-1]
        assert (arrived["type"], arrived["actor_id"], arrived["details"]["verification"]) == (
            "GuardianArrived",
            "g1",
            "pickup_code",
        )


def test_the_same_key_again_is_answered_from_the_stored_answer(tablet: Tablet) -> None:
    siblings_in_care(tablet)
    first = pickup(tablet, "1234", key="pickup-key-1")
    before = tablet.event_count()
    again = pickup(tablet, "1234", key="pickup-key-1")
    assert again.json()["replayed"] is True
    assert again.json()["children"] == first.json()["children"]
    assert tablet.event_count() == before
    assert pickup(tablet, "1234").json()["children"][0]["result"] == "already_arrived"


def test_a_code_nobody_holds_is_refused_and_counted_at_the_gate(tablet: Tablet) -> None:
    siblings_in_care(tablet)
    before = tablet.event_count()
    answer = pickup(tablet, "9999")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["outcome"], body["refusal"]["code"], body["children"]) == ("refused", "pickup_code_unknown", [])
    assert "identity document" in body["refusal"]["message"]
    assert tablet.event_count() == before + 2  # the wrong code, counted by the gate guard, and its answer


def test_a_code_two_guardians_hold_names_nobody(tablet: Tablet) -> None:
    siblings_in_care(tablet)
    tablet.handoff.guardian_list.authorise_guardian(ctx("admin"), "C2", "G7", "aunt", "5678")  # G2 of C1 has 5678 too
    before = tablet.event_count()
    answer = pickup(tablet, "5678")
    assert (answer.status_code, answer.json()["code"]) == (409, "pickup_code_shared")
    assert tablet.event_count() == before


def test_a_child_not_in_care_is_not_registered(tablet: Tablet) -> None:
    assert tablet.post("check-in", {"place_code": "T1"}, child="C1").status_code == 200
    tablet.handoff.guardian_list.authorise_guardian(ctx("admin"), "C2", "G1", "parent", "1234")
    body = pickup(tablet, "1234").json()
    assert [c["child_id"] for c in body["children"]] == ["C1"]


def test_a_locked_child_keeps_its_lock(tablet: Tablet) -> None:
    siblings_in_care(tablet)
    for _ in range(3):
        wrong = {"guardian_id": "G1", "verification": "pickup_code", "pickup_code": "0000"}
        tablet.post("guardian-arrival", wrong, who="gate", child="C2")
    body = pickup(tablet, "1234").json()
    assert [(c["child_id"], c["result"]) for c in body["children"]] == [("C1", "arrived"), ("C2", "pickup_code_locked")]
    assert tablet.day(child="C2").json()["custody"]["arrived_guardians"] == []


def test_only_staff_who_register_arrivals_may(tablet: Tablet) -> None:
    siblings_in_care(tablet)
    answer = pickup(tablet, "1234", who="admin")
    assert answer.status_code == 403
