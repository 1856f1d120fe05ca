"""Erasure that erases: once a child's erasure completes, their old wrapped key is in no live file of the key table,
nor their photos (sealed with that key) in the photo table's, and the erasure is recorded before the key is
destroyed, so that a retry finishes a half-done one."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import PoolClosed

from aggregates.roster import ChildAlreadyErasedError
from service.infra.key_store import PostgresKeyStore
from service.infra.settings import postgres_env
from tests.support import SECRET, Clock, ctx, make_handoff, png, setup_school


def wrapped_key(url: str, child_id: str) -> bytes | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT wrapped_key FROM child_keys WHERE child_id = %s", (child_id,)).fetchone()
    return bytes(row[0]) if row and row[0] is not None else None


def key_table_files(url: str, table: str = "child_keys") -> bytes:
    """Every byte of a table's files on disk (main fork and its segments), after a checkpoint flushed them."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        path = conn.execute("SELECT pg_relation_filepath(%s)", (table,)).fetchone()[0]  # type: ignore[index]
        parts = [conn.execute("SELECT pg_read_binary_file(%s)", (path,)).fetchone()[0]]  # type: ignore[index]
        for segment in range(1, 1000):
            found = conn.execute("SELECT pg_stat_file(%s, true)", (f"{path}.{segment}",)).fetchone()
            if found is None or found[0] is None:
                break
            parts.append(conn.execute("SELECT pg_read_binary_file(%s)", (f"{path}.{segment}",)).fetchone()[0])  # type: ignore[index]
    return b"".join(bytes(part) for part in parts)


def test_the_erased_childs_old_wrapped_key_is_gone_from_the_tables_files(fresh_postgres_url: str) -> None:
    handoff = make_handoff(
        postgres_env(fresh_postgres_url), Clock(), PostgresKeyStore(fresh_postgres_url, SECRET.encode())
    )
    setup_school(handoff)
    handoff.roster.add_child(ctx("admin"), "C9", "3-1", 3, name="王小明", sex="male")
    handoff.roster.add_child(ctx("admin"), "C8", "3-1", 3, name="李小红", sex="female")
    old, kept = wrapped_key(fresh_postgres_url, "C9"), wrapped_key(fresh_postgres_url, "C8")
    assert old is not None and kept is not None
    assert old in key_table_files(fresh_postgres_url)  # the scan sees the keys where they are kept
    handoff.roster.erase_child(ctx("admin"), "C9", "guardian asked under PIPL")
    files = key_table_files(fresh_postgres_url)
    assert old not in files, "the erased child's old wrapped key is still in the table's files"
    assert kept in files and wrapped_key(fresh_postgres_url, "C8") == kept
    handoff.close()


def sealed_photos(url: str, child_id: str) -> list[bytes]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT sealed FROM child_photos WHERE child_id = %s", (child_id,)).fetchall()
    return [bytes(row[0]) for row in rows]


def test_the_erased_childs_photos_are_gone_from_the_photo_tables_files(fresh_postgres_url: str) -> None:
    handoff = make_handoff(
        postgres_env(fresh_postgres_url), Clock(), PostgresKeyStore(fresh_postgres_url, SECRET.encode())
    )
    setup_school(handoff)
    for child in ("C9", "C8"):
        handoff.roster.add_child(ctx("admin"), child, "3-1", 3, name="王小明")
        handoff.guardian_list.authorise_guardian(ctx("admin"), child, f"{child}A", "mother", "4071")
        handoff.photos.store_photo(ctx("admin"), child, None, png((9, 9, 9)), "image/png")
        handoff.photos.store_photo(ctx("admin"), child, f"{child}A", png((7, 7, 7)), "image/png")
    old, kept = sealed_photos(fresh_postgres_url, "C9"), sealed_photos(fresh_postgres_url, "C8")
    files = key_table_files(fresh_postgres_url, "child_photos")
    assert len(old) == 2 and all(photo in files for photo in old)  # the scan sees the photos where they are kept
    assert png((9, 9, 9)) not in files, "photos are kept sealed, never as they are"
    handoff.roster.erase_child(ctx("admin"), "C9", "guardian asked under PIPL")
    files = key_table_files(fresh_postgres_url, "child_photos")
    assert not [photo for photo in old if photo in files], "an erased child's photo is still in the table's files"
    assert all(photo in files for photo in kept) and handoff.personal.photo("S1", "C8", "C8A") is not None
    handoff.close()


def test_the_erasure_is_recorded_before_the_key_is_destroyed_and_a_retry_finishes_it(fresh_postgres_url: str) -> None:
    keys = PostgresKeyStore(fresh_postgres_url, SECRET.encode())
    handoff = make_handoff(postgres_env(fresh_postgres_url), Clock(), keys)
    setup_school(handoff)
    handoff.roster.add_child(ctx("admin"), "C9", "3-1", 3, name="王小明", sex="male")
    keys.pool.close()  # the key store fails between the record and the destruction
    with pytest.raises(PoolClosed):
        handoff.roster.erase_child(ctx("admin", key="erase-C9-once"), "C9", "guardian asked under PIPL")
    assert handoff.roster_entry("S1", "C9").erased, "the erasure was not recorded before the key was touched"
    assert wrapped_key(fresh_postgres_url, "C9") is not None
    handoff.close()

    restarted = make_handoff(
        postgres_env(fresh_postgres_url), Clock(), PostgresKeyStore(fresh_postgres_url, SECRET.encode())
    )
    answer = restarted.roster.erase_child(ctx("admin", key="erase-C9-once"), "C9", "guardian asked under PIPL")
    assert answer["replayed"] is True
    assert wrapped_key(fresh_postgres_url, "C9") is None
    with pytest.raises(ChildAlreadyErasedError):
        restarted.roster.erase_child(ctx("admin"), "C9", "again")
    restarted.close()


def test_a_new_request_also_finishes_a_half_done_erasure(fresh_postgres_url: str) -> None:
    keys = PostgresKeyStore(fresh_postgres_url, SECRET.encode())
    handoff = make_handoff(postgres_env(fresh_postgres_url), Clock(), keys)
    setup_school(handoff)
    handoff.roster.add_child(ctx("admin"), "C9", "3-1", 3, name="王小明", sex="male")
    keys.pool.close()
    with pytest.raises(PoolClosed):
        handoff.roster.erase_child(ctx("admin"), "C9", "guardian asked under PIPL")
    handoff.close()
    restarted = make_handoff(
        postgres_env(fresh_postgres_url), Clock(), PostgresKeyStore(fresh_postgres_url, SECRET.encode())
    )
    with pytest.raises(ChildAlreadyErasedError):
        restarted.roster.erase_child(ctx("admin"), "C9", "asked again")
    assert wrapped_key(fresh_postgres_url, "C9") is None
    restarted.close()
