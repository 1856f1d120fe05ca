"""A mypy plugin: fields declared once on a dataclass, read as a TypedDict where Python's typing cannot say so.

`EventFields[SomeEvent]` is the TypedDict of that event class's dataclass fields, with their types.

Event constructors are called as `SomeEvent(**self._stamp(meta), own=...)`, where the stamp holds the fields every
event of a stream carries: the envelope (events.envelope.Envelope), the library's originator id, version and
timestamp, the clock skew, and the stream's own (a custody stream's child and day). Python's typing has no way to
say "the fields of this dataclass, as a TypedDict", so without this plugin the stamp was a second, hand-written list
of the same fields. With it, the fields are declared once, on the event classes, and mypy still checks every
constructor call field by field. At run time `EventFields[X]` is a plain `dict[str, Any]` (events.envelope).

Used by ./scripts/test through pyproject.toml's `[tool.mypy] plugins`; tests/unit/test_event_fields_plugin.py runs
mypy on probes that misspell a field or give it the wrong type, and expects both refused.

`Name = typed_dict_of("Name", SomeDataclass, key=type, ...)` (replay.shapes) is, at run time, a TypedDict class with
the keys given and then the dataclass's fields; this plugin makes it the same TypedDict class for mypy, so that other
TypedDicts can extend it. Replay's and the API's custody (replay.state.CustodyFields) is so made from the custody a
correction restores (events.custody.CustodyState), instead of repeating its fields.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.exprtotype import TypeTranslationError, expr_to_unanalyzed_type
from mypy.nodes import ARG_NAMED, ARG_POS, GDEF, RefExpr, StrExpr, SymbolTableNode, TypedDictData, TypeInfo
from mypy.plugin import AnalyzeTypeContext, DynamicClassDefContext, Plugin
from mypy.types import AnyType, Instance, PlaceholderType, Type, TypedDictType, TypeOfAny, get_proper_type

EVENT_FIELDS = "events.envelope.EventFields"
TYPED_DICT_OF = "replay.shapes.typed_dict_of"


def event_fields(ctx: AnalyzeTypeContext) -> Type:
    """The TypedDict of the one type argument's dataclass fields, every one required."""
    if len(ctx.type.args) != 1:
        ctx.api.fail("EventFields takes one event class, e.g. EventFields[CustodyEvent]", ctx.context)
        return AnyType(TypeOfAny.from_error)
    analysed = ctx.api.analyze_type(ctx.type.args[0])
    target = get_proper_type(analysed)
    if isinstance(target, PlaceholderType):
        return analysed  # the class is not defined yet: mypy defers this and comes back
    if not isinstance(target, Instance):
        ctx.api.fail("EventFields takes an event class, e.g. EventFields[CustodyEvent]", ctx.context)
        return AnyType(TypeOfAny.from_error)
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


def typed_dict_of(ctx: DynamicClassDefContext) -> None:
    """`Name = typed_dict_of("Name", SomeDataclass, key=type, ...)`: the TypedDict class `Name`, its keys the keyword
    arguments' and then the dataclass's fields, every one required."""
    call, api = ctx.call, ctx.api
    kinds = call.arg_kinds
    if (
        len(call.args) < 2
        or kinds[:2] != [ARG_POS, ARG_POS]
        or any(kind != ARG_NAMED for kind in kinds[2:])
        or not isinstance(call.args[0], StrExpr)
        or call.args[0].value != ctx.name
        or not isinstance(call.args[1], RefExpr)
    ):
        api.fail("typed_dict_of takes the name it is assigned to, a dataclass, and keys with their types", call)
        return
    shape = call.args[1].node
    attributes = shape.metadata.get("dataclass", {}).get("attributes") if isinstance(shape, TypeInfo) else None
    if not isinstance(shape, TypeInfo) or attributes is None:
        if api.final_iteration:
            api.fail("typed_dict_of needs a dataclass", call)
        else:
            api.defer()
        return
    items: dict[str, Type] = {}
    for name, expression in zip(call.arg_names[2:], call.args[2:], strict=True):
        try:
            unanalysed = expr_to_unanalyzed_type(expression, api.options)
        except TypeTranslationError:
            api.fail(f'typed_dict_of: "{name}" must be given a type', expression)
            return
        analysed = api.anal_type(unanalysed)
        if analysed is None:
            api.defer()
            return
        items[str(name)] = analysed
    for attribute in attributes:
        declared = shape.get(attribute["name"])
        node_type = getattr(declared.node, "type", None) if declared else None
        items[attribute["name"]] = node_type if node_type is not None else AnyType(TypeOfAny.special_form)
    fallback = api.named_type("typing._TypedDict", [])
    info = api.basic_new_typeinfo(ctx.name, fallback, call.line)
    info.update_typeddict_type(TypedDictType(items, set(items), set(), fallback))
    info.typeddict_data = TypedDictData(True, [], {})
    api.add_symbol_table_node(ctx.name, SymbolTableNode(GDEF, info))


class EventFieldsPlugin(Plugin):
    def get_type_analyze_hook(self, fullname: str) -> Callable[[AnalyzeTypeContext], Type] | None:
        return event_fields if fullname == EVENT_FIELDS else None

    def get_dynamic_class_hook(self, fullname: str) -> Callable[[DynamicClassDefContext], None] | None:
        return typed_dict_of if fullname == TYPED_DICT_OF else None


def plugin(version: str) -> type[Plugin]:
    return EventFieldsPlugin
