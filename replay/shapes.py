"""TypedDicts made from the fields of a dataclass, so that a shape declared once serves the log and the answers.

`CustodyFields = typed_dict_of("CustodyFields", CustodyState, child_id=str, version=int)` is a TypedDict class whose
keys are the keywords given and then the dataclass's fields, with their types: pydantic reads it as an API schema,
other TypedDicts extend it, and mypy sees the same class (scripts/mypy_event_fields.py)."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, get_type_hints

from typing_extensions import TypedDict  # pydantic reads it as an API schema too (service.http.schemas)


def typed_dict_of(name: str, shape: type[Any], /, **first: Any) -> Any:
    """The TypedDict class `name`: the keys in `first` with their types, then the dataclass `shape`'s fields."""
    hints = get_type_hints(shape)
    keys = {**first, **{field.name: hints[field.name] for field in dataclasses.fields(shape)}}
    functional: Any = TypedDict  # called with a name not known until run time
    made = functional(name, keys)
    made.__module__ = sys._getframe(1).f_globals["__name__"]  # noqa: SLF001 - the caller's, as a class statement
    return made
