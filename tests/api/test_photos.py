"""Photos over HTTP: an admin stores a child's or a guardian's photo (JPEG, PNG or WebP, at most 512 KB, checked at
the boundary with a clear code and nothing recorded); staff of the school read it back with their token, never
cached; the log holds that it was stored, never its bytes; erasing the child deletes it."""

from __future__ import annotations

import pytest

from tests.api.conftest import Tablet
from tests.support import SCHOOL, png

DEVICE = {"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00"}
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(28)
JPEG = b"\xff\xd8\xff\xe0" + bytes(60)


def put_photo(tablet: Tablet, data: bytes, content_type: str, guardian: str | None = None, who: str = "admin"):
    path = f"/api/v1/schools/{SCHOOL}/children/C1/" + (f"guardians/{guardian}/photo" if guardian else "photo")
    headers = tablet.headers(who) | {"Content-Type": content_type}
    return tablet.client.put(path, content=data, params=DEVICE, headers=headers)


def get_photo(tablet: Tablet, guardian: str | None = None, who: str = "gate"):
    path = f"/api/v1/schools/{SCHOOL}/children/C1/" + (f"guardians/{guardian}/photo" if guardian else "photo")
    return tablet.client.get(path, headers=tablet.headers(who))


def log_bytes(tablet: Tablet) -> bytes:
    return b"".join(bytes(row.state) for row in tablet.handoff.recorder.select_notifications(1, 100_000))


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(png(), "image/png"), (WEBP, "image/webp"), (JPEG, "image/jpeg")],
    ids=["png", "webp", "jpeg"],
)
def test_an_admin_stores_a_photo_and_staff_see_it_uncached(tablet: Tablet, data: bytes, content_type: str) -> None:
    stored = put_photo(tablet, data, content_type)
    assert stored.status_code == 200, stored.text
    assert stored.json() | {"replayed": False} == {
        "child_id": "C1",
        "guardian_id": None,
        "content_type": content_type,
        "size": len(data),
        "replayed": False,
    }
    shown = get_photo(tablet)
    assert (shown.status_code, shown.headers["content-type"], shown.content) == (200, content_type, data)
    assert shown.headers["cache-control"] == "no-store"
    assert data not in log_bytes(tablet), "the photo's bytes are never in the log"
    topics = [row.topic for row in tablet.handoff.recorder.select_notifications(1, 100_000)]
    assert "events.roster:PhotoStored" in topics


def test_a_guardians_photo_is_stored_under_the_child_and_shown_on_the_gate_card(tablet: Tablet) -> None:
    assert put_photo(tablet, png((10, 20, 30)), "image/png", guardian="G1").status_code == 200
    assert get_photo(tablet, guardian="G1").content == png((10, 20, 30))
    card = tablet.client.get(f"/api/v1/schools/{SCHOOL}/ui/children/C1", headers=tablet.headers("gate")).json()
    assert [g["has_photo"] for g in card["guardians"] if g["guardian_id"] == "G1"] == [True]
    assert card["has_photo"] is False, "no photo of the child yet"
    refused = put_photo(tablet, png(), "image/png", guardian="NOBODY")
    assert (refused.status_code, refused.json()["code"]) == (404, "guardian_not_found")
    missing = get_photo(tablet, guardian="G2")
    assert (missing.status_code, missing.json()["code"]) == (404, "photo_not_found")


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (png(), "image/gif", 415, "photo_type_not_allowed"),
        (b"GIF89a" + bytes(40), "image/png", 415, "photo_type_not_allowed"),  # not what its type says
        (b"%PDF-1.7" + bytes(40), "application/pdf", 415, "photo_type_not_allowed"),
        (b"\xff\xd8\xff" + bytes(512 * 1024), "image/jpeg", 413, "photo_too_large"),
        (b"\xff\xd8\xff" + bytes(1024 * 1024), "image/jpeg", 413, "request_too_large"),
        (b"", "image/png", 422, "photo_empty"),
    ],
    ids=["declared-gif", "gif-as-png", "pdf", "over-512-kb", "over-1-mib", "empty"],
)
def test_a_bad_photo_is_refused_with_a_clear_code_and_nothing_is_recorded(
    tablet: Tablet, data: bytes, content_type: str, status: int, code: str
) -> None:
    before = tablet.event_count()
    refused = put_photo(tablet, data, content_type)
    assert (refused.status_code, refused.json()["code"]) == (status, code), refused.text
    assert tablet.event_count() == before


def test_only_an_admin_stores_photos_and_only_staff_of_the_school_see_them(tablet: Tablet) -> None:
    refused = put_photo(tablet, png(), "image/png", who="teacher")
    assert (refused.status_code, refused.json()["code"]) == (403, "role_not_allowed")
    assert put_photo(tablet, png(), "image/png").status_code == 200
    assert get_photo(tablet, who="regulator").status_code == 403
    assert get_photo(tablet, who="other_school_teacher").status_code == 403


def test_erasing_the_child_deletes_their_photos(tablet: Tablet) -> None:
    assert put_photo(tablet, png(), "image/png").status_code == 200
    assert put_photo(tablet, png((1, 2, 3)), "image/png", guardian="G1").status_code == 200
    erased = tablet.post("erasure", {"reason": "left the school"}, who="admin")
    assert erased.status_code == 200, erased.text
    for guardian in (None, "G1"):
        gone = get_photo(tablet, guardian=guardian)
        assert (gone.status_code, gone.json()["code"]) == (404, "photo_not_found")
    again = put_photo(tablet, png(), "image/png")
    assert (again.status_code, again.json()["code"]) == (409, "child_already_erased")
