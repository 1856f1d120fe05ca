"""Every domain error's message is whole: a gate teacher reads it as it stands (one was cut off mid-sentence by a
string split over two lines without parentheses)."""

from __future__ import annotations

import importlib
import pkgutil

import aggregates
from aggregates.base import DomainError
from aggregates.custody import PickupCodeLockedError


def every_error() -> list[type[DomainError]]:
    for module in pkgutil.iter_modules(aggregates.__path__):
        importlib.import_module(f"aggregates.{module.name}")
    found, todo = [], [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def test_the_pickup_code_lock_message_says_what_to_do() -> None:
    assert PickupCodeLockedError.message.endswith("or ask the duty leader to lift the lock.")


def test_every_error_message_ends_a_sentence() -> None:
    own = [e for e in every_error() if "message" in vars(e) and e.message != "{problem}"]
    cut = [e.__name__ for e in own if not e.message.rstrip().endswith((".", "?", ")"))]
    assert cut == []
