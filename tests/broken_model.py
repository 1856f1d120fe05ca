"""A read model whose handler fails on every release while `failing["on"]` is true: for failure tests."""

from __future__ import annotations

from typing import Any

from events.custody import ChildReleased
from projections.base import ReadModel

broken = ReadModel("broken", ["CREATE TABLE {releases} (child_id text)"])
failing = {"on": True}


@broken.handles(ChildReleased)
def _refuse_while_failing(cur: Any, t: Any, e: ChildReleased) -> None:
    if failing["on"]:
        raise RuntimeError("this handler is broken")
    cur.execute(t.format("INSERT INTO {releases} VALUES (%s)"), (e.child_id,))
