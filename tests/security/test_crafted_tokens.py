"""A made-up bearer token gets the same 401 whatever it names: it tells nobody which streams exist, and logs nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from aggregates.custody import custody_id
from aggregates.guardians import guardians_id
from aggregates.school import school_id_for
from aggregates.staff import staff_stream_id
from service.http.app import create_app
from tests.api.conftest import Tablet, make_tablet
from tests.support import SCHOOL, Clock, make_handoff


@pytest.fixture
def tablet() -> Iterator[Tablet]:
    handoff = make_handoff(clock=Clock())
    tablet = make_tablet(handoff)
    tablet.client = TestClient(create_app(handoff), raise_server_exceptions=False)
    yield tablet
    handoff.close()


def crafted(tablet: Tablet) -> dict[str, bytes]:
    """Tokens that name streams which exist (a child's day in care, a staff member, a school) and plain garbage."""
    real = tablet.tokens["teacher"]
    day = custody_id(SCHOOL, "C1", date(2026, 11, 30))
    return {
        "custody stream": f"hs1.{day.hex}.x.y".encode(),
        "custody stream with dashes": f"hs1.{day}.x.y".encode(),
        "guardians stream": f"hs1.{guardians_id(SCHOOL, 'C1').hex}.x.y".encode(),
        "school stream": f"hs1.{school_id_for(SCHOOL).hex}.x.y".encode(),
        "staff stream, unknown token": f"hs1.{staff_stream_id(SCHOOL, 't1').hex}.x.y".encode(),
        "staff stream, wrong secret": ".".join([*real.split(".")[:3], "wrong"]).encode(),
        "unknown stream": f"hs1.{'0' * 32}.x.y".encode(),
        "garbage": b"garbage",
        "too many parts": f"{real}.extra".encode(),
        "not hex": b"hs1.zzzz.x.y",
        "overlong": b"hs1." + b"a" * 6000 + b".x.y",
        "non-ASCII": "hs1.é你好.x.y".encode(),
        "non-ASCII in the secret": ".".join([*real.split(".")[:3], "秘密"]).encode(),
    }


def test_any_crafted_token_gets_the_same_401_and_leaves_no_traceback(
    tablet: Tablet, caplog: pytest.LogCaptureFixture
) -> None:
    assert tablet.post("check-in", {"place_code": "T1"}).status_code == 200  # C1's day in care exists now
    url = f"/api/v1/schools/{SCHOOL}/children/C1/days/2026-11-30"
    answers = {}
    with caplog.at_level(logging.DEBUG):
        for name, token in crafted(tablet).items():
            response = tablet.client.get(url, headers={"Authorization": b"Bearer " + token})
            answers[name] = (response.status_code, response.text)
    assert set(answers.values()) == {(401, answers["garbage"][1])}, answers
    assert '"code":"invalid_token"' in answers["garbage"][1]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info], caplog.text
