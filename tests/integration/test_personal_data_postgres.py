"""Personal data with keys in PostgreSQL: wrapped keys at rest, shared master key, erasure that sticks."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from service.application.personal_data import PersonalData
from service.infra.key_store import ChildErasedError, KeyUnwrapError, PersonalDataError, PostgresKeyStore

MASTER = b"m" * 32
CHILD = {"name": "王小明", "guardian": "李娜", "phone": "+86 138 0013 8000", "priority": "双职工家庭", "note": None}


@pytest.fixture
def keys(fresh_postgres_url: str) -> Iterator[PostgresKeyStore]:
    store = PostgresKeyStore(fresh_postgres_url, MASTER)
    yield store
    store.close()


@pytest.fixture
def data(keys: PostgresKeyStore) -> PersonalData:
    return PersonalData(keys)


def _row(url: str, school_id: str, child_id: str) -> tuple[bytes | None, object, object] | None:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT wrapped_key, created_at, destroyed_at FROM child_keys WHERE school_id = %s AND child_id = %s",
            (school_id, child_id),
        ).fetchone()


def test_seal_then_open_round_trips_chinese_names(data: PersonalData) -> None:
    token = data.seal("s1", "c1", CHILD)
    assert data.open("s1", "c1", token) == CHILD


def test_a_tampered_token_is_detected(data: PersonalData) -> None:
    token = data.seal("s1", "c1", CHILD)
    tampered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    with pytest.raises(PersonalDataError):
        data.open("s1", "c1", tampered)


def test_another_childs_key_cannot_open_the_token(data: PersonalData) -> None:
    token = data.seal("s1", "c1", CHILD)
    data.seal("s1", "c2", {"name": "张伟"})
    with pytest.raises(PersonalDataError):
        data.open("s1", "c2", token)


def test_create_is_idempotent(keys: PostgresKeyStore) -> None:
    first = keys.create("s1", "c1")
    assert len(first) == 32
    assert keys.create("s1", "c1") == first == keys.key("s1", "c1")
    assert keys.create("s1", "c2") != first


def test_the_table_holds_no_raw_key(keys: PostgresKeyStore, fresh_postgres_url: str) -> None:
    key = keys.create("s1", "c1")
    row = _row(fresh_postgres_url, "s1", "c1")
    assert row is not None and row[0] is not None and row[1] is not None and row[2] is None
    stored = bytes(row[0])
    assert stored != key and key not in stored and key[:16] not in stored and key[16:] not in stored


def test_a_second_store_with_the_same_master_key_opens_the_data(data: PersonalData, fresh_postgres_url: str) -> None:
    token = data.seal("s1", "c1", CHILD)
    other = PostgresKeyStore(fresh_postgres_url, MASTER)
    try:
        assert PersonalData(other).open("s1", "c1", token) == CHILD
    finally:
        other.close()


def test_a_store_with_another_master_key_cannot_open_the_data(data: PersonalData, fresh_postgres_url: str) -> None:
    token = data.seal("s1", "c1", CHILD)
    other = PostgresKeyStore(fresh_postgres_url, b"x" * 32)
    try:
        with pytest.raises(KeyUnwrapError):
            PersonalData(other).open("s1", "c1", token)
        with pytest.raises(KeyUnwrapError):
            other.create("s1", "c1")
    finally:
        other.close()


def test_a_wrapped_key_moved_to_another_child_does_not_unwrap(keys: PostgresKeyStore, fresh_postgres_url: str) -> None:
    keys.create("s1", "c1")
    keys.create("s1", "c2")
    with psycopg.connect(fresh_postgres_url) as conn:
        conn.execute(
            "UPDATE child_keys SET wrapped_key = (SELECT wrapped_key FROM child_keys WHERE child_id = 'c1')"
            " WHERE child_id = 'c2'"
        )
    with pytest.raises(KeyUnwrapError):
        keys.key("s1", "c2")


def test_erasing_a_child_nulls_the_key_and_refuses_a_new_one(data: PersonalData, fresh_postgres_url: str) -> None:
    token = data.seal("s1", "c1", CHILD)
    other = data.seal("s1", "c2", {"name": "张伟"})
    assert data.erase("s1", "c1") is True
    assert data.open("s1", "c1", token) is None
    assert data.keys.key("s1", "c1") is None and data.keys.is_erased("s1", "c1")
    with pytest.raises(ChildErasedError):
        data.keys.create("s1", "c1")
    assert data.open("s1", "c2", other) == {"name": "张伟"}
    assert data.erase("s1", "c1") is False
    row = _row(fresh_postgres_url, "s1", "c1")
    assert row is not None and row[0] is None and row[2] is not None


def test_erasing_a_child_never_keyed_records_the_erasure(keys: PostgresKeyStore, fresh_postgres_url: str) -> None:
    assert keys.key("s1", "c9") is None and not keys.is_erased("s1", "c9")
    assert keys.destroy("s1", "c9") is True
    assert keys.is_erased("s1", "c9")
    with pytest.raises(ChildErasedError):
        keys.create("s1", "c9")
    row = _row(fresh_postgres_url, "s1", "c9")
    assert row is not None and row[0] is None and row[2] is not None


def test_erasure_takes_effect_at_once_in_another_store(data: PersonalData, fresh_postgres_url: str) -> None:
    token = data.seal("s1", "c1", CHILD)
    other = PostgresKeyStore(fresh_postgres_url, MASTER)
    try:
        reader = PersonalData(other)
        assert reader.open("s1", "c1", token) == CHILD
        data.erase("s1", "c1")
        assert reader.open("s1", "c1", token) is None
    finally:
        other.close()


def test_opening_the_store_twice_keeps_the_table(fresh_postgres_url: str) -> None:
    first = PostgresKeyStore(fresh_postgres_url, MASTER)
    key = first.create("s1", "c1")
    first.close()
    second = PostgresKeyStore(fresh_postgres_url, MASTER)
    try:
        assert second.key("s1", "c1") == key
    finally:
        second.close()


def test_a_short_master_key_is_refused(fresh_postgres_url: str) -> None:
    with pytest.raises(ValueError, match="master key"):
        PostgresKeyStore(fresh_postgres_url, b"short")


def test_opening_many_children_at_once_gives_what_opening_each_gives_erased_and_other_schools_included(
    data: PersonalData,
) -> None:
    tokens = [(f"c{n}", data.seal("s1", f"c{n}", {"name": f"孩子{n}"})) for n in range(5)]
    guardian = ("c1", data.seal("s1", "c1", {"name": "家长"}))  # a second token sealed with the same child's key
    elsewhere = data.seal("s2", "c0", {"name": "别校"})
    data.erase("s1", "c3")
    opened = data.open_many("s1", [*tokens, guardian])
    assert opened == [data.open("s1", c, t) for c, t in [*tokens, guardian]]
    assert [o and o["name"] for o in opened] == ["孩子0", "孩子1", "孩子2", None, "孩子4", "家长"]
    with pytest.raises(PersonalDataError):  # sealed for another school's child: refused, as `open` refuses it
        data.open_many("s1", [*tokens, ("c0", elsewhere)])
    assert data.open_many("s1", []) == []
