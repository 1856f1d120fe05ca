"""The deployment's signing keys: the current private key (HANDOFF_SIGNING_KEY_FILE) and, beside it in
`<key file>.history.json`, the public half of every key it has used and the rotations that announced each successor.

- Publishing: `published()` gives each key's 40-digit fingerprint (read over the phone), its base64 and PEM forms.
- Rotation: `rotate()` makes a new key and a note signed by the OLD key that announces the new one; verifiers that
  pinned the old key accept the new one through that note. The old private key is destroyed.
- A lost key is never silently replaced: with a history and no key file, loading refuses; `replace_lost()` makes a
  new key and records the loss, and regulators must pin the new key through their own channel again."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aggregates.base import DomainError
from replay.checkpoints import key_id, load_or_create_signing_key, public_key_pem, write_signing_key
from replay.export_signed import Signer
from replay.notes import fingerprint, raw_public_key, sign_note


class SigningKeyLostError(DomainError):
    status = 503
    code = "signing_key_lost"
    message = (
        "The signing key file is missing or holds a key this deployment never announced. Restore it from the"
        " backup; if it is lost for good, run `handoff key replace-lost` and give regulators the new fingerprint."
    )


@dataclass(frozen=True)
class KeyHistory:
    """Public keys used before the current one (oldest first) and the signed notes announcing each successor."""

    earlier: tuple[bytes, ...] = ()
    rotations: tuple[str, ...] = ()
    lost: tuple[dict[str, str], ...] = field(default=())

    def signer(self, key: Ed25519PrivateKey) -> Signer:
        return Signer(key, self.earlier, self.rotations)


def _history_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".history.json")


def load_keys(key_path: Path) -> tuple[Ed25519PrivateKey, KeyHistory]:
    """The current key and its history; a first start makes both, a missing or unannounced key is refused."""
    history_path = _history_path(key_path)
    if not history_path.exists():
        key = load_or_create_signing_key(key_path)
        _write(history_path, {"keys": [_b64(raw_public_key(key))], "rotations": [], "lost": []})
        return key, KeyHistory()
    found = json.loads(history_path.read_text(encoding="utf-8"))
    if not key_path.exists():
        raise SigningKeyLostError
    key = load_or_create_signing_key(key_path)
    keys = [base64.b64decode(k) for k in found["keys"]]
    if keys[-1] != raw_public_key(key):
        raise SigningKeyLostError
    return key, KeyHistory(tuple(keys[:-1]), tuple(found["rotations"]), tuple(found["lost"]))


def rotate(key_path: Path, now: datetime) -> Ed25519PrivateKey:
    """A new current key, announced in a note signed by the old one; the old private key is overwritten."""
    old, _ = load_keys(key_path)
    new = Ed25519PrivateKey.generate()
    text = f"handoff-key-rotation v1\nold {_b64(raw_public_key(old))}\nnew {_b64(raw_public_key(new))}\n"
    note = sign_note(old, text + f"at {now.isoformat()}\n")
    _replace_key(key_path, new, rotation=note)
    return new


def replace_lost(key_path: Path, now: datetime, reason: str) -> Ed25519PrivateKey:
    """A new key where the old one is lost for good: recorded as lost, announced by nobody."""
    if key_path.exists():
        raise FileExistsError(f"{key_path} exists: rotate the key instead (`handoff key rotate`)")
    new = Ed25519PrivateKey.generate()
    _replace_key(key_path, new, lost={"at": now.isoformat(), "reason": reason})
    return new


def published(key: Ed25519PrivateKey, history: KeyHistory) -> dict[str, Any]:
    """What the deployment publishes about its keys: the current one, the earlier ones, the rotations."""
    current = {**describe(raw_public_key(key)), "public_key_pem": public_key_pem(key).decode("ascii")}
    earlier = [describe(raw) for raw in history.earlier]
    return {"current": current, "earlier": earlier, "rotations": list(history.rotations), "lost": list(history.lost)}


def describe(raw: bytes) -> dict[str, str]:
    return {"fingerprint": fingerprint(raw), "public_key_base64": _b64(raw), "key_id": key_id(raw)}


def _replace_key(
    key_path: Path, new: Ed25519PrivateKey, rotation: str = "", lost: dict[str, str] | None = None
) -> None:
    history_path = _history_path(key_path)
    found = json.loads(history_path.read_text(encoding="utf-8"))
    found["keys"].append(_b64(raw_public_key(new)))
    found["rotations"] += [rotation] if rotation else []
    found["lost"] += [lost] if lost else []
    staged = key_path.with_name(key_path.name + ".new")
    staged.unlink(missing_ok=True)
    write_signing_key(staged, new)
    _write(history_path, found)
    os.replace(staged, key_path)


def _write(path: Path, value: dict[str, Any]) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
