"""Property (#13): schema-valid commands with extreme values (instants of any year and offset, text of any length
and any Unicode category) from two schools, over HTTP on PostgreSQL. Every answer is an answer (never a 500), a
refusal records nothing, and afterwards every view has caught up, equals a rebuild, and /health is healthy."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.registry import READ_MODELS
from service.infra.event_log import event_log
from service.infra.settings import postgres_env
from service.reads.readside import ReadSide
from service.runtime import projector_supervisor
from tests.api.conftest import Tablet, make_tablet
from tests.integration.test_projector import assert_views_equal_rebuild, caught_up, wait_until
from tests.support import AFTERNOON, Clock, make_handoff

OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
INSTANTS = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS),
    st.timedeltas(timedelta(hours=-30), timedelta(hours=30)).map(lambda off: AFTERNOON + off),
)
TEXT = st.one_of(
    st.text(st.characters(codec=None), max_size=400),  # every category, lone surrogates and controls included
    st.text(st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), min_size=1, max_size=80),
)
SCHOOLS = st.sampled_from([("S1", "teacher", "duty_leader"), ("S2", "other_school_teacher", None)])


@st.composite
def commands(draw: Any) -> tuple[str, str, dict[str, Any]]:
    """(who, path, body) of one command a tablet could send."""
    school, teacher, duty = draw(SCHOOLS)
    child = draw(st.sampled_from(["C1", "C2", "C3"]))
    body: dict[str, Any] = {"device_id": "tablet-9", "device_time": draw(INSTANTS).isoformat()}
    kind = draw(st.sampled_from(["absence", "check-in", "incident", "duty-round"] if duty else ["absence", "check-in"]))
    if kind == "absence":
        return teacher, f"schools/{school}/children/{child}/absence", {**body, "reason": draw(TEXT)}
    if kind == "check-in":
        return teacher, f"schools/{school}/children/{child}/check-in", {**body, "place_code": "T1"}
    if kind == "incident":
        incident = {"kind": "other", "children": [child], "staff": [], "summary": draw(TEXT)}
        return teacher, f"schools/{school}/incidents", {**body, **incident}
    rounds = {**body, "findings": draw(TEXT), "all_well": True}
    return duty or teacher, f"schools/{school}/places/T1/duty-rounds", rounds


def send(tablet: Tablet, who: str, path: str, body: dict[str, Any]) -> int:
    """Sent as raw JSON (escaped), so that lone surrogates reach the server as a client could send them."""
    headers = {**tablet.headers(who), "Content-Type": "application/json"}
    answer = tablet.client.post(f"/api/v1/{path}", content=json.dumps(body), headers=headers)
    assert answer.status_code < 500, answer.text
    return answer.status_code


def test_extreme_input_from_several_schools_leaves_every_view_caught_up_equal_to_a_rebuild_and_healthy(
    fresh_postgres_url: str,
) -> None:
    handoff = make_handoff(postgres_env(fresh_postgres_url), Clock())
    read = ReadSide(fresh_postgres_url, event_log(handoff), handoff.clock)
    tablet = make_tablet(handoff, read)
    supervisor = projector_supervisor(handoff, fresh_postgres_url)
    supervisor.start()
    answered: dict[int, int] = {}

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(commands(), min_size=1, max_size=5))
    def each(batch: list[tuple[str, str, dict[str, Any]]]) -> None:
        for who, path, body in batch:
            before = tablet.event_count()
            status = send(tablet, who, path, body)
            answered[status] = answered.get(status, 0) + 1
            if status >= 400:
                assert tablet.event_count() == before, (status, path)

    try:
        each()
        assert answered.get(200, 0) > 0 and answered.get(422, 0) > 0, answered
        wait_until(lambda: caught_up(fresh_postgres_url, handoff), timeout=60)
        status = read.status()
        assert {name: (status[name]["state"], status[name]["parked"]) for name in READ_MODELS} == {
            name: ("live", 0) for name in READ_MODELS
        }
        assert tablet.client.get("/health").json()["status"] == "ok"
    finally:
        supervisor.close()
        read.close()
    assert_views_equal_rebuild(fresh_postgres_url, handoff)
    handoff.close()
