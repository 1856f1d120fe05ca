"""An enrolment that lets a child be checked in on any day, for the custody rule tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from aggregates.enrolment import Agreement, Enrolment, Stage

ENROLLED = replace(
    Enrolment.none("S1", "C1", "2026-27"),
    stage=Stage.ARRANGED,
    agreement=Agreement("G1", ("G1",), None, date(2000, 1, 1), date(2100, 12, 31)),
)
"""Approved, arranged, with a signed agreement covering every day the tests use."""
