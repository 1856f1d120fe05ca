# shellcheck shell=bash
set -euo pipefail
# Sourced by scripts/run and scripts/test from the repository root: makes ./.venv exist and
# hold the project installed with its test extras. pip runs only when pyproject.toml changed
# since the last successful install (its sha256 is kept in .venv/.pyproject.sha256).

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
  local python stamp wanted
  # a .venv copied from elsewhere (or whose Python was removed) is rebuilt
  if ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python="$(handoff_find_python)"
    echo "creating .venv with $python ($("$python" --version))" >&2
    "$python" -m venv --clear .venv
  fi
  stamp=.venv/.pyproject.sha256
  wanted="$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    echo "installing the project into .venv (pyproject.toml changed)" >&2
    .venv/bin/python -m pip install -q -e '.[test]'
    echo "$wanted" >"$stamp"
  fi
}

handoff_ensure_venv
