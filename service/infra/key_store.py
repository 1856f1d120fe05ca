"""Children's data keys in PostgreSQL (the ``child_keys`` table), each wrapped under the master key, and the photos
sealed with them (``child_photos``); the key store behind the application's `PersonalData` when the event store is
PostgreSQL. Destroying a child's key deletes their photos too."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from psycopg import errors

from aggregates.base import DomainError
from service.infra.pools import checked_pool

logger = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12


class PersonalDataError(Exception):
    """A sealed token is malformed, was tampered with, or was sealed for another child."""


class KeyUnwrapError(PersonalDataError):
    """A stored child key cannot be unwrapped: wrong master key or a tampered row."""


class ChildErasedError(DomainError):
    """The child was erased; their key cannot be created again."""

    code = "child_erased"
    status = 410
    message = "This child's personal data was erased."


class PostgresKeyStore:
    """Keys in the ``child_keys`` table, each wrapped with AES-GCM under a key derived from the master key."""

    SCHEMA: ClassVar[str] = (
        "CREATE TABLE IF NOT EXISTS child_keys (school_id text NOT NULL, child_id text NOT NULL,"
        " wrapped_key bytea NULL, created_at timestamptz NOT NULL DEFAULT now(), destroyed_at timestamptz NULL,"
        " PRIMARY KEY (school_id, child_id));"
        "CREATE TABLE IF NOT EXISTS child_photos (school_id text NOT NULL, child_id text NOT NULL,"
        " subject text NOT NULL, sealed bytea NOT NULL, PRIMARY KEY (school_id, child_id, subject))"
    )

    def __init__(self, conninfo: str, master_key: bytes, pool_size: int = 2) -> None:
        if len(master_key) < 16:
            raise ValueError("the master key must be at least 16 bytes")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"handoff child keys")
        self._kek = AESGCM(hkdf.derive(master_key))
        self.pool = checked_pool(conninfo, pool_size)
        with self.pool.connection() as conn:
            conn.execute(self.SCHEMA)

    def close(self) -> None:
        self.pool.close()

    def key(self, school_id: str, child_id: str) -> bytes | None:
        row = self._row(school_id, child_id)
        if row is None or row[0] is None:
            return None
        return self._unwrap(school_id, child_id, bytes(row[0]))

    def keys(self, school_id: str, child_ids: Sequence[str]) -> dict[str, bytes]:
        """The live keys of these children of one school, in one query (an erased child's is absent)."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT child_id, wrapped_key FROM child_keys WHERE school_id = %s AND child_id = ANY(%s)"
                " AND wrapped_key IS NOT NULL",
                (school_id, list(child_ids)),
            ).fetchall()
        return {child_id: self._unwrap(school_id, child_id, bytes(wrapped)) for child_id, wrapped in rows}

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
        """Erase the child (even one never keyed); True when this call erased them, False if already erased.

        Setting the key to NULL leaves the old row version, with the wrapped key, in the table's pages until
        they are rewritten; VACUUM FULL rewrites the table into new files and unlinks the old ones, so the key
        is in no live file of the database once this returns. The WAL still holds it until its segments are
        recycled and overwritten (the CHECKPOINT lets that start now); see the README on archives and backups."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "INSERT INTO child_keys (school_id, child_id, wrapped_key, destroyed_at) VALUES (%s, %s, NULL, now())"
                " ON CONFLICT (school_id, child_id) DO UPDATE SET wrapped_key = NULL, destroyed_at = now()"
                " WHERE child_keys.destroyed_at IS NULL RETURNING 1",
                (school_id, child_id),
            ).fetchone()
            conn.execute("DELETE FROM child_photos WHERE school_id = %s AND child_id = %s", (school_id, child_id))
            conn.execute("VACUUM FULL child_keys")
            conn.execute("VACUUM FULL child_photos")
            try:
                conn.execute("CHECKPOINT")
            except errors.InsufficientPrivilege:
                logger.info("no CHECKPOINT after an erasure: the database user may not run one (pg_checkpoint)")
        return row is not None

    def put_photo(self, school_id: str, child_id: str, subject: str, sealed: bytes) -> None:
        """Keep a sealed photo of the child or of one of their guardians (subject), replacing any earlier one."""
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO child_photos (school_id, child_id, subject, sealed) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (school_id, child_id, subject) DO UPDATE SET sealed = excluded.sealed",
                (school_id, child_id, subject, sealed),
            )

    def photo(self, school_id: str, child_id: str, subject: str) -> bytes | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT sealed FROM child_photos WHERE school_id = %s AND child_id = %s AND subject = %s",
                (school_id, child_id, subject),
            ).fetchone()
        return bytes(row[0]) if row else None

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


def _wrap_aad(school_id: str, child_id: str) -> bytes:
    return json.dumps(["child_keys", school_id, child_id], ensure_ascii=False).encode()
