"""Schemathesis against the OpenAPI description of every operation, over HTTP to the app on uvicorn: the commands and
reads on the in-memory store, the views and exports on PostgreSQL with the projector.

Each operation is called with the token of a role allowed on it (from the matrix's table) and, most of the time, for
the school, child and district that exist, so that generated bodies reach the rules. Every answer must be no server
error and conform to the schema (status, headers, body); a schema-violating request must be refused; a 4xx must
record nothing."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.application.handoff import Handoff
from service.http.app import create_app
from service.infra.settings import postgres_env
from tests.security.conftest import TALLY, Callers, caller_tokens, listening, served
from tests.security.expectations import ADMIN, EXPECTATIONS, PATH_VALUES, REGULATOR, Expect
from tests.support import Clock, make_handoff

EXAMPLES = 8
"""Examples per operation and generation mode (about 75 operations): the module takes well under a minute."""
EXCLUDED: list[CheckFunction] = [positive_data_acceptance]
"""A well-formed request may still be refused by a rule (404 unknown child, 409 already released): not a finding."""
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
POSTGRES = sorted({path for (_, path), expect in EXPECTATIONS.items() if expect.postgres})
LIVE = "/api/v1/schools/{school_id}/live"
"""The live stream never ends, so it cannot be fuzzed through the ASGI transport; the matrix covers its access."""


@dataclass
class Fuzzed:
    handoff: Handoff
    callers: Callers
    base: str = ""
    session: requests.Session = field(default_factory=requests.Session)


def fuzzed_app() -> tuple[Fuzzed, FastAPI]:
    """The app over two schools on the in-memory store (built at collection: the operations come from its schema)."""
    handoff = make_handoff(clock=Clock())
    return Fuzzed(handoff, caller_tokens(handoff)), create_app(handoff)


IN_MEMORY, APP = fuzzed_app()
schema = schemathesis.openapi.from_dict(APP.openapi()).exclude(path=POSTGRES)


@pytest.fixture(scope="module")
def in_memory() -> Iterator[Fuzzed]:
    """The in-memory app on a real HTTP server: one connection kept open is much faster than a test client a call."""
    with listening(APP) as base:
        IN_MEMORY.base = base
        yield IN_MEMORY
    IN_MEMORY.handoff.close()


def is_positive(case: schemathesis.Case, location: str) -> bool:
    """Whether this part of the request was generated to fit the schema (negative parts are sent as they are)."""
    component = case.meta.components.get(ParameterLocation(location)) if case.meta else None
    return component is None or component.mode == GenerationMode.POSITIVE


def exercise(case: schemathesis.Case, fuzzed: Fuzzed) -> None:
    """Send the case as a caller allowed on its operation, and check the answer and that a refusal recorded nothing."""
    expect = EXPECTATIONS.get((case.operation.method.upper(), case.operation.path), Expect(frozenset({ADMIN})))
    if is_positive(case, "path") and zlib.crc32(repr(case.body).encode()) % 4:
        for name in case.path_parameters or {}:  # most cases aim at what exists; the rest keep the generated ids
            case.path_parameters[name] = PATH_VALUES.get(name, case.path_parameters[name])
    role = REGULATOR if REGULATOR in expect.allowed else sorted(expect.allowed)[0]
    token = {"Authorization": f"Bearer {fuzzed.callers.own[role]}"} if is_positive(case, "header") else {}
    before = fuzzed.handoff.recorder.max_notification_id() or 0
    response = case.call_and_validate(
        base_url=fuzzed.base, session=fuzzed.session, headers=token, excluded_checks=EXCLUDED, timeout=30
    )
    TALLY["fuzz requests"] += 1
    if 400 <= response.status_code < 500:
        assert (fuzzed.handoff.recorder.max_notification_id() or 0) == before, "a refused request recorded events"


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_server_error_and_no_answer_outside_the_schema(case: schemathesis.Case, in_memory: Fuzzed) -> None:
    exercise(case, in_memory)


@pytest.fixture(scope="module")
def on_postgres(module_postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fuzzed, dict]]:
    handoff = make_handoff(postgres_env(module_postgres_url), Clock())
    callers = caller_tokens(handoff)
    with served(handoff, module_postgres_url, tmp_path_factory.mktemp("keys")) as base:
        yield Fuzzed(handoff, callers, base), requests.get(base + "/openapi.json", timeout=10).json()
    handoff.close()


def test_the_views_and_exports_on_postgres_too(on_postgres: tuple[Fuzzed, dict]) -> None:
    fuzzed, openapi = on_postgres
    on_views = schemathesis.openapi.from_dict(openapi).include(path=[p for p in POSTGRES if p != LIVE])
    operations = [result.ok() for result in on_views.get_all_operations()]
    assert len(operations) == len(POSTGRES) - 1
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @FUZZ_SETTINGS
        @given(case=cases)
        def fuzz(case: schemathesis.Case) -> None:
            exercise(case, fuzzed)

        fuzz()
