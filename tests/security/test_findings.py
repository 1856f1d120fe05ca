"""What the fuzzer and the matrix found, pinned down: each was answered wrongly before its fix."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest

from tests.api.conftest import Tablet, make_tablet
from tests.support import Clock, make_handoff

DEVICE = {"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00"}


@pytest.fixture
def tablet() -> Iterator[Tablet]:
    handoff = make_handoff(clock=Clock())
    yield make_tablet(handoff)
    handoff.close()


def bearer(tablet: Tablet, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tablet.tokens[who]}"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/schools/S1/incidents?day=0",
        "/api/v1/schools/S1/replay/state?at=0.5",
        "/api/v1/schools/S1/replay/window?at=1700000000",
        "/api/v1/schools/S1/children/C1/days/0",
    ],
)
def test_a_number_is_not_a_date(tablet: Tablet, path: str) -> None:
    response = tablet.client.get(path, headers=bearer(tablet, "duty_leader"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_request"


def test_a_device_time_given_as_a_number_is_refused(tablet: Tablet) -> None:
    count = tablet.event_count()
    response = tablet.post("check-in", {"place_code": "T1", "device_id": "t", "device_time": 0}, device=False)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")
    assert tablet.event_count() == count


def test_a_body_that_is_not_utf8_is_422_with_a_code(tablet: Tablet) -> None:
    response = tablet.client.post(
        "/api/v1/schools/S1/children/C1/check-in",
        content=b"\xff\xfe{",
        headers={**tablet.headers("teacher"), "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")


def test_a_wrong_method_names_every_method_the_path_takes(tablet: Tablet) -> None:
    response = tablet.client.request("DELETE", "/api/v1/schools/S1/incidents", headers=bearer(tablet, "admin"))
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"


def test_an_unknown_path_is_404_with_a_code(tablet: Tablet) -> None:
    response = tablet.client.get("/api/v1/nowhere")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def upload(tablet: Tablet, who: str, content: bytes, content_type: str) -> object:
    return tablet.client.post(
        "/api/v1/schools/S1/roster",
        content=content,
        params=DEVICE,
        headers={**tablet.headers(who), "Content-Type": content_type},
    )


def test_a_roster_file_is_not_even_read_for_a_caller_who_may_not_import(tablet: Tablet) -> None:
    for who in ("teacher", "regulator", "other_school_teacher"):
        response = upload(tablet, who, b"not,a,roster\n", "text/csv")
        assert response.status_code == 403, response.text
        assert response.json()["code"] in ("role_not_allowed", "other_school")


def test_a_zipped_roster_that_unpacks_to_too_much_is_refused_unread(tablet: Tablet) -> None:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as bundle, bundle.open("users.csv", "w") as users:
        for _ in range(65):
            users.write(bytes(1 << 20))  # 65 MiB of zeros packs to about 65 KiB
    assert len(packed.getvalue()) < 1 << 20
    count = tablet.event_count()
    response = upload(tablet, "admin", packed.getvalue(), "application/zip")
    assert (response.status_code, response.json()["code"]) == (422, "bad_roster_file")
    assert "unpack" in response.json()["problems"][0]["problem"]
    assert tablet.event_count() == count
