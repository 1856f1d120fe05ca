"""The witness's memory: per log (origin), the last checkpoint it cosigned, in one JSON file replaced atomically
(written, fsynced, renamed, the folder fsynced), and every refused checkpoint, appended to a JSON-lines file with
fsync, as evidence. A lock file serialises check-and-store across threads and processes (c2sp.org/tlog-witness asks
that the two be atomic, or two requests could roll a log back)."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class WitnessStore:
    """State and evidence in the folder `root` (made if missing)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.state_path, self.evidence_path = root / "state.json", root / "refused.jsonl"
        self._thread_lock = threading.Lock()

    @contextmanager
    def locked(self) -> Iterator[dict[str, dict[str, Any]]]:
        """The state, read under the lock; what the caller leaves in it is written back before the lock is let go."""
        with self._thread_lock, open(self.root / "state.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self.state()
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                self._write(state)

    def state(self) -> dict[str, dict[str, Any]]:
        """Per origin: {"size", "root" (base64), "note" (the cosigned checkpoint), "at"}."""
        if not self.state_path.exists():
            return {}
        loaded: dict[str, dict[str, Any]] = json.loads(self.state_path.read_text(encoding="utf-8"))
        return loaded

    def keep_refused(self, record: dict[str, Any]) -> None:
        """Append one refused checkpoint (and why) to the evidence, durably."""
        with open(self.evidence_path, "a", encoding="utf-8") as file:
            file.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def refused(self) -> list[dict[str, Any]]:
        """Every refused checkpoint kept, oldest first."""
        if not self.evidence_path.exists():
            return []
        return [json.loads(line) for line in self.evidence_path.read_text(encoding="utf-8").splitlines() if line]

    def _write(self, state: dict[str, dict[str, Any]]) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(json.dumps(state, ensure_ascii=False, sort_keys=True, indent=1))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.state_path)
        folder = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
