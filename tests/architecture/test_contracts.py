"""Each import contract fails on a probe import that breaks it: a contract that cannot fail enforces nothing.

The tree is copied to a temporary folder, one probe module is added, and `lint-imports --contract <id>` must then
fail naming the probe; the untouched copy passes every contract."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("events", "aggregates", "projections", "replay", "service")

PROBES = [
    ("events", "events/_probe.py", "import psycopg"),
    ("events", "events/_probe.py", "from fastapi import FastAPI"),
    ("events", "events/_probe.py", "from aggregates import base"),
    ("events", "events/_probe.py", "from eventsourcing.application import Application"),
    ("aggregates", "aggregates/_probe.py", "import starlette"),
    ("aggregates", "aggregates/_probe.py", "from projections import occupancy"),
    ("aggregates", "aggregates/_probe.py", "from eventsourcing.postgres import PostgresDatastore"),
    ("projections", "projections/_probe.py", "import fastapi"),
    ("projections", "projections/_probe.py", "from service.application import handoff"),
    ("replay", "replay/_probe.py", "from projections import occupancy"),
    ("replay", "replay/_probe.py", "import psycopg"),
    ("application", "service/application/_probe.py", "import fastapi"),
    ("application", "service/application/_probe.py", "import typer"),
    ("application", "service/application/_probe.py", "import psycopg"),
    ("application", "service/application/_probe.py", "from service.reads import readside"),
    ("service-layers", "service/infra/_probe.py", "from service.application import handoff"),
    ("service-layers", "service/application/_probe.py", "from service.processes import policies"),
    ("service-layers", "service/http/_probe.py", "from service.cli import main"),
    ("top-layers", "replay/_probe.py", "from service.application import context"),
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "ui"))
    shutil.copytree(ROOT / "tests" / "architecture", root / "tests" / "architecture")
    (root / "tests" / "__init__.py").write_text("")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def lint(root: Path, *contract: str) -> subprocess.CompletedProcess[str]:
    args = [str(LINT), "--no-cache"] + [word for cid in contract for word in ("--contract", cid)]
    return subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120)


def test_the_untouched_tree_keeps_every_contract(tree: Path) -> None:
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("contract", "module", "probe"), PROBES, ids=[f"{c}:{p}" for c, _, p in PROBES])
def test_a_probe_import_breaks_the_contract(tree: Path, contract: str, module: str, probe: str) -> None:
    path = tree / module
    path.write_text(f'"""A probe that must break the {contract} contract."""\n\n{probe}  # noqa: F401\n')
    try:
        result = lint(tree, contract)
    finally:
        path.unlink()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert module.removesuffix(".py").replace("/", ".") in result.stdout, result.stdout
