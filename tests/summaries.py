"""Figures a test adds to the run's closing summary (faults injected, requests sent, cells checked).

They travel on the test's report (`user_properties`), so they reach the summary also when the suite runs in several
worker processes (pytest-xdist), where a module-level counter of a worker is never seen by the process that prints."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

KEY = "handoff_summary"
FIGURES: dict[str, list[tuple[str, Any]]] = {}
"""Per section, (test name, figures) as the reports brought them."""


def add(item: pytest.Item, section: str, figures: Any) -> None:
    """Keep `figures` (plain data) for `section` of the summary, with the test's report."""
    item.user_properties.append((KEY, [section, figures]))


def collect(report: pytest.TestReport) -> None:
    for key, value in report.user_properties:
        if key == KEY:
            FIGURES.setdefault(value[0], []).append((report.nodeid.rpartition("::")[2], value[1]))


def counted(section: str) -> Counter[str]:
    """The counters every test added to `section`, summed."""
    total: Counter[str] = Counter()
    for _, figures in FIGURES.get(section, []):
        total.update(figures)
    return total
