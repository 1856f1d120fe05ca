# shellcheck shell=bash
set -euo pipefail
# Sourced by scripts/run and scripts/test from the repository root. `handoff_ensure_venv` makes ./.venv
# exist and hold the project with what running needs; `handoff_ensure_venv test` adds the test extras
# (pytest, Playwright, schemathesis, the compose binary, linters). pip runs only when pyproject.toml
# changed since the last successful install of that set (its sha256 is kept in .venv/.pyproject[-test].sha256;
# an install with the test extras also holds everything running needs).

handoff_find_python() {
  local candidate
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "error: Python 3.11 or newer is needed (tried python3.11 and python3)" >&2
  return 1
}

handoff_ensure_venv() {
  local python wanted
  # a .venv copied from elsewhere (or whose Python was removed) is rebuilt
  if ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python="$(handoff_find_python)"
    echo "creating .venv with $python ($("$python" --version))" >&2
    "$python" -m venv --clear .venv
  fi
  wanted="$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
  if [[ "$(cat .venv/.pyproject-test.sha256 2>/dev/null)" == "$wanted" ]] ||
    [[ -z "${1:-}" && "$(cat .venv/.pyproject.sha256 2>/dev/null)" == "$wanted" ]]; then
    return 0
  fi
  if [[ "${1:-}" == test ]]; then
    echo "installing the project with its test extras into .venv (pyproject.toml changed)" >&2
    .venv/bin/python -m pip install -q -e '.[test]'
    echo "$wanted" >.venv/.pyproject-test.sha256
  else
    echo "installing the project into .venv (pyproject.toml changed)" >&2
    .venv/bin/python -m pip install -q -e .
  fi
  echo "$wanted" >.venv/.pyproject.sha256
}

