"""Handoff's benchmark suite (issue #8): `python -m bench` writes BENCHMARKS.md. Not part of the test suite."""
