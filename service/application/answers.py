"""Stored command answers outlive the shape of the API's answers.

A command's answer is stored in the log (`CommandAnswered.response`) so that a retried request, days later and
perhaps after an upgrade, gets the same answer. It is stored with the version of the answers' shape it was written
in (`ANSWER_VERSION`), and read back through the upgrades from each version to the next, so that the retry is
answered in the shape the API now promises. A change to the answers' shape raises ANSWER_VERSION and adds its
upgrade to UPGRADES, with a test that replays an answer stored before the change. An answer stored by a newer
release (after a rollback) is returned as stored."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Answer = dict[str, Any]
Upgrade = Callable[[Answer], Answer]

ANSWER_VERSION = 1
"""The current shape of command answers (1: the first, unchanged so far)."""
UPGRADES: Mapping[int, Upgrade] = {}
"""From version N to N + 1: a function that brings an answer of shape N to shape N + 1."""


def current(
    answer: Answer, version: int, upgrades: Mapping[int, Upgrade] = UPGRADES, to: int = ANSWER_VERSION
) -> Answer:
    """The stored answer in shape `to`, through every upgrade from its own version."""
    upgraded = dict(answer)
    for step in range(version, to):
        upgraded = upgrades[step](upgraded)
    return upgraded
