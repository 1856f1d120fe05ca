"""A mypy plugin: `EventFields[SomeEvent]` is the TypedDict of that event class's dataclass fields, with their types.

Event constructors are called as `SomeEvent(**self._stamp(meta), own=...)`, where the stamp holds the fields every
event of a stream carries: the envelope (events.envelope.Envelope), the library's originator id, version and
timestamp, the clock skew, and the stream's own (a custody stream's child and day). Python's typing has no way to
say "the fields of this dataclass, as a TypedDict", so without this plugin the stamp was a second, hand-written list
of the same fields. With it, the fields are declared once, on the event classes, and mypy still checks every
constructor call field by field. At run time `EventFields[X]` is a plain `dict[str, Any]` (events.envelope).

Used by ./scripts/test through pyproject.toml's `[tool.mypy] plugins`; tests/unit/test_event_fields_plugin.py runs
mypy on probes that misspell a field or give it the wrong type, and expects both refused.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.plugin import AnalyzeTypeContext, Plugin
from mypy.types import AnyType, Instance, Type, TypedDictType, TypeOfAny, get_proper_type

EVENT_FIELDS = "events.envelope.EventFields"


def event_fields(ctx: AnalyzeTypeContext) -> Type:
    """The TypedDict of the one type argument's dataclass fields, every one required."""
    if len(ctx.type.args) != 1:
        ctx.api.fail("EventFields takes one event class, e.g. EventFields[CustodyEvent]", ctx.context)
        return AnyType(TypeOfAny.from_error)
    target = get_proper_type(ctx.api.analyze_type(ctx.type.args[0]))
    if not isinstance(target, Instance):
        return AnyType(TypeOfAny.special_form)  # not analysed yet: mypy comes back to it
    attributes = target.type.metadata.get("dataclass", {}).get("attributes")
    if attributes is None:
        ctx.api.fail(f'EventFields needs an event class (a dataclass), not "{target.type.name}"', ctx.context)
        return AnyType(TypeOfAny.from_error)
    items: dict[str, Type] = {}
    for attribute in attributes:
        declared = target.type.get(attribute["name"])
        node_type = getattr(declared.node, "type", None) if declared else None
        items[attribute["name"]] = node_type if node_type is not None else AnyType(TypeOfAny.special_form)
    fallback = ctx.api.named_type("typing._TypedDict", [])
    return TypedDictType(items, set(items), set(), fallback)


class EventFieldsPlugin(Plugin):
    def get_type_analyze_hook(self, fullname: str) -> Callable[[AnalyzeTypeContext], Type] | None:
        return event_fields if fullname == EVENT_FIELDS else None


def plugin(version: str) -> type[Plugin]:
    return EventFieldsPlugin
