"""Children's personal data sealed with a key per child held outside the event store. Destroying the key erases the
child (crypto-shredding): events still load and verify, their tokens no longer open, and views show ``ERASED``."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from typing import Any, ClassVar, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from psycopg_pool import ConnectionPool

from aggregates.base import DomainError

ERASED = "已删除 (erased)"
KEY_BYTES = 32
NONCE_BYTES = 12
TOKEN = re.compile(r"v1\.([A-Za-z0-9_-]+)")


class PersonalDataError(Exception):
    """A sealed token is malformed, was tampered with, or was sealed for another child."""


class KeyUnwrapError(PersonalDataError):
    """A stored child key cannot be unwrapped: wrong master key or a tampered row."""


class ChildErasedError(DomainError):
    """The child was erased; their key cannot be created again."""

    code = "child_erased"
    status = 410
    message = "This child's personal data was erased."


class KeyStore(Protocol):
    """Per-child data keys, outside the event store."""

    def key(self, school_id: str, child_id: str) -> bytes | None: ...
    def create(self, school_id: str, child_id: str) -> bytes: ...
    def destroy(self, school_id: str, child_id: str) -> bool: ...
    def is_erased(self, school_id: str, child_id: str) -> bool: ...


class MemoryKeyStore:
    """Keys in a dict, for unit tests and offline replay. A destroyed key is kept as ``None``."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], bytes | None] = {}
        self._lock = threading.Lock()

    def key(self, school_id: str, child_id: str) -> bytes | None:
        return self._keys.get((school_id, child_id))

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
        return newly

    def is_erased(self, school_id: str, child_id: str) -> bool:
        return (school_id, child_id) in self._keys and self._keys[(school_id, child_id)] is None


class PostgresKeyStore:
    """Keys in the ``child_keys`` table, each wrapped with AES-GCM under a key derived from the master key."""

    SCHEMA: ClassVar[str] = (
        "CREATE TABLE IF NOT EXISTS child_keys (school_id text NOT NULL, child_id text NOT NULL,"
        " wrapped_key bytea NULL, created_at timestamptz NOT NULL DEFAULT now(), destroyed_at timestamptz NULL,"
        " PRIMARY KEY (school_id, child_id))"
    )

    def __init__(self, conninfo: str, master_key: bytes, pool_size: int = 2) -> None:
        if len(master_key) < 16:
            raise ValueError("the master key must be at least 16 bytes")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"handoff child keys")
        self._kek = AESGCM(hkdf.derive(master_key))
        self.pool = ConnectionPool(conninfo, min_size=1, max_size=pool_size, kwargs={"autocommit": True}, open=True)
        with self.pool.connection() as conn:
            conn.execute(self.SCHEMA)

    def close(self) -> None:
        self.pool.close()

    def key(self, school_id: str, child_id: str) -> bytes | None:
        row = self._row(school_id, child_id)
        if row is None or row[0] is None:
            return None
        return self._unwrap(school_id, child_id, bytes(row[0]))

    def create(self, school_id: str, child_id: str) -> bytes:
        wrapped = self._wrap(school_id, child_id, os.urandom(KEY_BYTES))
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO child_keys (school_id, child_id, wrapped_key) VALUES (%s, %s, %s)"
                " ON CONFLICT (school_id, child_id) DO NOTHING",
                (school_id, child_id, wrapped),
            )
        row = self._row(school_id, child_id)
        if row is None or row[0] is None:
            raise ChildErasedError
        return self._unwrap(school_id, child_id, bytes(row[0]))

    def destroy(self, school_id: str, child_id: str) -> bool:
        """Erase the child (even one never keyed); True when this call erased them, False if already erased."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "INSERT INTO child_keys (school_id, child_id, wrapped_key, destroyed_at) VALUES (%s, %s, NULL, now())"
                " ON CONFLICT (school_id, child_id) DO UPDATE SET wrapped_key = NULL, destroyed_at = now()"
                " WHERE child_keys.destroyed_at IS NULL RETURNING 1",
                (school_id, child_id),
            ).fetchone()
        return row is not None

    def is_erased(self, school_id: str, child_id: str) -> bool:
        row = self._row(school_id, child_id)
        return row is not None and row[1] is not None

    def _row(self, school_id: str, child_id: str) -> tuple[Any, ...] | None:
        with self.pool.connection() as conn:
            return conn.execute(
                "SELECT wrapped_key, destroyed_at FROM child_keys WHERE school_id = %s AND child_id = %s",
                (school_id, child_id),
            ).fetchone()

    def _wrap(self, school_id: str, child_id: str, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._kek.encrypt(nonce, key, _wrap_aad(school_id, child_id))

    def _unwrap(self, school_id: str, child_id: str, wrapped: bytes) -> bytes:
        try:
            return self._kek.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(school_id, child_id))
        except InvalidTag as error:
            raise KeyUnwrapError(f"cannot unwrap the key of child {child_id} of school {school_id}") from error


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
        raw = _decode(token)
        key = self.keys.key(school_id, child_id)
        if key is None:
            return None
        try:
            plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(school_id, child_id))
        except InvalidTag as error:
            raise PersonalDataError("the token was tampered with or sealed for another child") from error
        return json.loads(plain)

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


def _wrap_aad(school_id: str, child_id: str) -> bytes:
    return json.dumps(["child_keys", school_id, child_id], ensure_ascii=False).encode()
