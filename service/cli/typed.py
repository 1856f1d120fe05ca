"""Options that carry text a person typed: checked as over HTTP (length, no control characters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from aggregates.base import DomainError
from service.application.text import checked_text


def free_text(limit: int) -> Callable[[str | None], str | None]:
    """An option's check: the same limits on typed text as over HTTP (length, no control characters)."""

    def check(value: str | None) -> str | None:
        try:
            return None if value is None else checked_text(value, limit)
        except DomainError as refusal:
            raise typer.BadParameter(f"{refusal.text} ({refusal.code})") from None

    return check


Text = Annotated[str, typer.Option(callback=free_text(1000), help="Free text, no names or phone numbers")]
Reason = Annotated[str, typer.Option(callback=free_text(300), help="Why, in a few words (no names)")]
