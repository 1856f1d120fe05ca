"""Children's personal data sealed with a key per child held outside the event store. Destroying the key erases the
child (crypto-shredding): events still load and verify, their tokens no longer open, and views show ``ERASED``."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.infra.key_store import KEY_BYTES, NONCE_BYTES, ChildErasedError, PersonalDataError

ERASED = "已删除 (erased)"
TOKEN = re.compile(r"v1\.([A-Za-z0-9_-]+)")


class KeyStore(Protocol):
    """Per-child data keys, outside the event store."""

    def key(self, school_id: str, child_id: str) -> bytes | None: ...
    def keys(self, school_id: str, child_ids: Sequence[str]) -> dict[str, bytes]: ...
    def create(self, school_id: str, child_id: str) -> bytes: ...
    def destroy(self, school_id: str, child_id: str) -> bool: ...
    def is_erased(self, school_id: str, child_id: str) -> bool: ...
    def put_photo(self, school_id: str, child_id: str, subject: str, sealed: bytes) -> None: ...
    def photo(self, school_id: str, child_id: str, subject: str) -> bytes | None: ...
    def close(self) -> None: ...


class MemoryKeyStore:
    """Keys in a dict, for unit tests and offline replay. A destroyed key is kept as ``None``."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], bytes | None] = {}
        self._photos: dict[tuple[str, str, str], bytes] = {}
        self._lock = threading.Lock()

    def key(self, school_id: str, child_id: str) -> bytes | None:
        return self._keys.get((school_id, child_id))

    def keys(self, school_id: str, child_ids: Sequence[str]) -> dict[str, bytes]:
        found = {child_id: self._keys.get((school_id, child_id)) for child_id in child_ids}
        return {child_id: key for child_id, key in found.items() if key is not None}

    def create(self, school_id: str, child_id: str) -> bytes:
        with self._lock:
            existing = self._keys.setdefault((school_id, child_id), os.urandom(KEY_BYTES))
        if existing is None:
            raise ChildErasedError
        return existing

    def destroy(self, school_id: str, child_id: str) -> bool:
        """Erase the child (even one never keyed); True when this call erased them, False if already erased."""
        with self._lock:
            newly = not self.is_erased(school_id, child_id)
            self._keys[(school_id, child_id)] = None
            for kept in [k for k in self._photos if k[:2] == (school_id, child_id)]:
                del self._photos[kept]
        return newly

    def put_photo(self, school_id: str, child_id: str, subject: str, sealed: bytes) -> None:
        self._photos[(school_id, child_id, subject)] = sealed

    def photo(self, school_id: str, child_id: str, subject: str) -> bytes | None:
        return self._photos.get((school_id, child_id, subject))

    def is_erased(self, school_id: str, child_id: str) -> bool:
        return (school_id, child_id) in self._keys and self._keys[(school_id, child_id)] is None

    def close(self) -> None:
        """Nothing to release."""


class PersonalData:
    """Seals a child's personal data into compact tokens and opens them while the child's key exists."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def seal(self, school_id: str, child_id: str, data: dict[str, str | None]) -> str:
        """A "v1." token of the data; creates the child's key if needed, refuses an erased child."""
        plain = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys.create(school_id, child_id)).encrypt(nonce, plain, _aad(school_id, child_id))
        return "v1." + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")

    def open(self, school_id: str, child_id: str, token: str) -> dict[str, Any] | None:
        """The sealed data, or None when the child's key is gone (erased)."""
        return self._open_with(self.keys.key(school_id, child_id), school_id, child_id, token)

    def open_many(self, school_id: str, tokens: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        """`open` for many (child, token) pairs of one school, the children's keys fetched at once: a list of a
        whole school's children costs one read of keys, not one per child."""
        if not tokens:
            return []
        keys = self.keys.keys(school_id, sorted({child_id for child_id, _ in tokens}))
        return [self._open_with(keys.get(child_id), school_id, child_id, token) for child_id, token in tokens]

    def _open_with(self, key: bytes | None, school_id: str, child_id: str, token: str) -> dict[str, Any] | None:
        raw = _decode(token)
        if key is None:
            return None
        try:
            plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(school_id, child_id))
        except InvalidTag as error:
            raise PersonalDataError("the token was tampered with or sealed for another child") from error
        return json.loads(plain)

    def keep_photo(self, school_id: str, child_id: str, subject: str, content_type: str, data: bytes) -> None:
        """Seal a photo with the child's key (refused for an erased child) and keep it beside the key."""
        nonce = os.urandom(NONCE_BYTES)
        plain = content_type.encode() + b"\n" + data
        aad = _aad(school_id, child_id) + b"/photo/" + subject.encode()
        sealed = AESGCM(self.keys.create(school_id, child_id)).encrypt(nonce, plain, aad)
        self.keys.put_photo(school_id, child_id, subject, nonce + sealed)

    def photo(self, school_id: str, child_id: str, subject: str) -> tuple[str, bytes] | None:
        """The photo's type and bytes, or None when there is none or the child was erased."""
        sealed, key = self.keys.photo(school_id, child_id, subject), self.keys.key(school_id, child_id)
        if sealed is None or key is None:
            return None
        aad = _aad(school_id, child_id) + b"/photo/" + subject.encode()
        try:
            plain = AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
        except InvalidTag as error:
            raise PersonalDataError("the photo was tampered with or sealed for another child") from error
        content_type, _, data = plain.partition(b"\n")
        return content_type.decode(), data

    def erase(self, school_id: str, child_id: str) -> bool:
        """Destroy the child's key; True when this call erased them."""
        return self.keys.destroy(school_id, child_id)


def _decode(token: str) -> bytes:
    match = TOKEN.fullmatch(token) if isinstance(token, str) else None
    body = match.group(1) if match else ""
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as error:  # binascii.Error
        raise PersonalDataError("the token is not valid base64url") from error
    if len(raw) < NONCE_BYTES + 16 or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != body:
        raise PersonalDataError("not a v1 personal-data token")
    return raw


def _aad(school_id: str, child_id: str) -> bytes:
    return f"{school_id}/{child_id}".encode()
