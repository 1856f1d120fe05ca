"""The one way the rule tests check a refusal."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from aggregates.base import DomainError


def assert_refused(state: Any, decide: Callable[[Any], list], error: type[DomainError], code: str) -> DomainError:
    """The decision raises exactly `error` with its stable `code`, returns nothing and leaves the state as it was."""
    before = copy.deepcopy(state)
    returned = None
    with pytest.raises(DomainError) as caught:
        returned = decide(state)
    assert type(caught.value) is error
    assert caught.value.code == code
    assert returned is None
    assert state == before
    return caught.value
