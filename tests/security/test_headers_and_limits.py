"""Security headers on every answer, CORS closed unless configured, and limits on bodies, strings and lists, each
refused with a 4xx and a stable code, recording nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.http.app import create_app
from service.http.security import BODY_LIMIT, DOCS_PATHS
from service.infra.settings import Settings
from tests.api.conftest import Tablet, make_tablet
from tests.support import Clock, make_handoff

UI_FOLDER = "service/http/ui"


@pytest.fixture
def tablet() -> Iterator[Tablet]:
    handoff = make_handoff(clock=Clock())
    yield make_tablet(handoff)
    handoff.close()


def assert_secure(response: Any, api: bool) -> None:
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    if api:
        assert headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in headers


def test_every_kind_of_api_answer_carries_the_headers(tablet: Tablet) -> None:
    checked_in = tablet.post("check-in", {"place_code": "T1"})
    assert checked_in.status_code == 200
    for response in (
        checked_in,
        tablet.day(),
        tablet.day(who=None),  # 401
        tablet.day(who="regulator"),  # 403
        tablet.day(child="C404"),  # 404
        tablet.day(day="30-11-2026"),  # 422
        tablet.client.get("/api/v1/nowhere"),  # the router's own 404
    ):
        assert_secure(response, api=True)


def test_pages_and_public_answers_carry_the_headers(tablet: Tablet) -> None:
    for path in ("/health", "/openapi.json", "/ui/", "/ui/gate.html", "/ui/js/gate.js", "/ui/css/app.css"):
        response = tablet.client.get(path)
        assert response.status_code == 200, path
        assert_secure(response, api=False)


def test_the_api_docs_work_offline_and_nothing_else_relaxes(tablet: Tablet) -> None:
    """Swagger UI and ReDoc come from this server: a school network without internet still shows /docs."""
    for path in sorted(DOCS_PATHS):
        response = tablet.client.get(path)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "http" not in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-frame-options"] == "DENY"
    for path in ("/docs", "/redoc"):
        html = tablet.client.get(path).text
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE), (path, html)
        assets = re.findall(r"""(?:src|href)=["']?(/[^"'\s>]+)""", html) + re.findall(r"""url: ['"](/[^'"]+)""", html)
        assert len(assets) >= 2, html
        for asset in assets:
            assert tablet.client.get(asset).status_code == 200, asset


def test_the_pages_hold_no_inline_script_or_style_the_policy_would_block() -> None:
    from pathlib import Path

    pages = sorted(Path(UI_FOLDER).glob("*.html"))
    assert pages, "the UI pages are where the policy matters"
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html), f"{page}: inline script"
        assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), f"{page}: inline event handler"
        assert not re.search(r"<style|\sstyle\s*=", html, re.IGNORECASE), f"{page}: inline style"
        assert not re.search(r"(src|href)\s*=\s*[\"'](https?:)?//", html), f"{page}: loads from another origin"


def test_cors_is_closed_by_default(tablet: Tablet) -> None:
    preflight = tablet.client.options(
        "/api/v1/schools/S1/occupancy",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = tablet.client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_opens_only_to_the_configured_origins() -> None:
    handoff = make_handoff(clock=Clock())
    settings = Settings(cors_origins="https://board.school.example, http://localhost:5173")
    client = TestClient(create_app(handoff, settings=settings))
    request = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,idempotency-key",
    }
    allowed = client.options(
        "/api/v1/schools/S1/incidents", headers={"Origin": "https://board.school.example", **request}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://board.school.example"
    assert "access-control-allow-credentials" not in allowed.headers  # bearer tokens, never cookies
    other = client.options("/api/v1/schools/S1/incidents", headers={"Origin": "https://evil.example", **request})
    assert "access-control-allow-origin" not in other.headers
    assert other.headers["x-frame-options"] == "DENY"
    handoff.close()


@pytest.mark.parametrize("origins", ["*", "https://school.example/path", "school.example", "https://a.example,*"])
def test_a_cors_setting_that_is_not_a_list_of_origins_is_refused(origins: str) -> None:
    with pytest.raises(ValidationError, match="HANDOFF_CORS_ORIGINS"):
        Settings(cors_origins=origins)


def assert_nothing_recorded(tablet: Tablet, response: Any, status: int, code: str, count: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert tablet.event_count() == count


def test_a_body_over_the_limit_is_413_and_records_nothing(tablet: Tablet) -> None:
    count = tablet.event_count()
    padding = "x" * BODY_LIMIT
    response = tablet.post("absence", {"reason": padding})
    assert_nothing_recorded(tablet, response, 413, "request_too_large", count)
    assert_secure(response, api=True)


def test_a_chunked_body_over_the_limit_is_413_too(tablet: Tablet) -> None:
    count = tablet.event_count()
    chunks = (b"x" * 4096 for _ in range(BODY_LIMIT // 4096 + 1))  # no Content-Length: counted as it arrives
    response = tablet.client.post(
        "/api/v1/schools/S1/children/C1/absence",
        content=chunks,
        headers={**tablet.headers("teacher"), "Content-Type": "application/json"},
    )
    assert_nothing_recorded(tablet, response, 413, "request_too_large", count)


def test_a_roster_file_may_be_larger_than_a_command(tablet: Tablet) -> None:
    rows = "".join(f"C{n},Given,Family,female,3-1,3,t1,Guardian,parent,1380000{n:04d}\n" for n in range(1000, 3000))
    csv = "child_id,given_name,family_name,sex,home_class,grade,homeroom_teacher_id,"
    csv += "guardian1_name,guardian1_relation,guardian1_phone\n" + rows
    assert len(csv) > BODY_LIMIT
    response = tablet.client.post(
        "/api/v1/schools/S1/roster",
        content=csv.encode(),
        params={"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00"},
        headers={**tablet.headers("admin"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["children_added"] == 2000


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("absence", {"reason": "x" * 301}),
        ("guardians", {"guardian_id": "G3", "relation": "x" * 41, "pickup_code": "4071"}),
        ("guardians", {"guardian_id": "G3", "relation": "aunt", "pickup_code": "4071", "name": "名" * 61}),
        ("enrolments/2026-27/application", {"guardian_id": "G1", "days": ["mon"] * 6, "release_batch": "B1"}),
        (
            "enrolments/2026-27/application",
            {"guardian_id": "G1", "days": ["mon"], "release_batch": "B1", "notes": "x" * 501},
        ),
        (
            "enrolments/2026-27/agreement",
            {
                "signed_by": "G1",
                "authorised_guardians": ["G1"] * 11,
                "starts_on": "2026-09-01",
                "ends_on": "2027-06-30",
            },
        ),
        ("check-in", {"place_code": "T" * 65}),
    ],
)
def test_a_string_or_list_over_its_limit_is_422_and_records_nothing(tablet: Tablet, path: str, body: dict) -> None:
    count = tablet.event_count()
    assert_nothing_recorded(tablet, tablet.post(path, body, who="admin"), 422, "invalid_request", count)


def test_a_headcount_list_over_its_limit_is_422(tablet: Tablet) -> None:
    count = tablet.event_count()
    response = tablet.post_school("places/T1/headcounts", {"present": [f"C{n}" for n in range(101)]}, who="teacher")
    assert_nothing_recorded(tablet, response, 422, "invalid_request", count)


def unbounded(schema: dict[str, Any], components: dict[str, Any], where: str, seen: set[str]) -> Iterator[str]:
    """Every string without a length, pattern, format or choice, and every list without a maximum, in a schema."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from unbounded(components[name], components, name, seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from unbounded(option, components, where, seen)
    if schema.get("type") == "string" and not {"maxLength", "pattern", "enum", "const", "format"} & set(schema):
        yield where
    if schema.get("type") == "array":
        if "maxItems" not in schema:
            yield where
        yield from unbounded(schema.get("items", {}), components, where + "[]", seen)
    for name, field in schema.get("properties", {}).items():
        yield from unbounded(field, components, f"{where}.{name}", seen)


def test_every_string_and_list_a_client_sends_has_a_limit(tablet: Tablet) -> None:
    """Generated from the OpenAPI description: a new request field without a limit fails here."""
    openapi = tablet.client.get("/openapi.json").json()
    components = openapi["components"]["schemas"]
    found: list[str] = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                found += unbounded(parameter["schema"], components, f"{where} {parameter['name']}", set())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                if content.get("schema", {}).get("format") != "binary" and "$ref" in content.get("schema", {}):
                    found += unbounded(content["schema"], components, where, set())
    assert not found, f"give these a max_length, a pattern or a max_length of list: {sorted(set(found))}"
