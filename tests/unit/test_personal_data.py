"""Personal data sealed per child: round trips, tampering, other children's keys, and erasure (MemoryKeyStore)."""

from __future__ import annotations

import pytest

from service.application.personal_data import (
    ERASED,
    ChildErasedError,
    MemoryKeyStore,
    PersonalData,
    PersonalDataError,
)

CHILD = {"name": "王小明", "guardian": "李娜", "phone": "+86 138 0013 8000", "priority": "双职工家庭", "note": None}


@pytest.fixture
def keys() -> MemoryKeyStore:
    return MemoryKeyStore()


@pytest.fixture
def data(keys: MemoryKeyStore) -> PersonalData:
    return PersonalData(keys)


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _flip(token: str, at: int) -> str:
    """Change the top bit of one base64url character: always a bit of the decoded bytes, never padding."""
    at = at % len(token)
    swapped = ALPHABET[ALPHABET.index(token[at]) ^ 32]
    return token[:at] + swapped + token[at + 1 :]


def test_seal_then_open_round_trips_chinese_names(data: PersonalData) -> None:
    token = data.seal("s1", "c1", CHILD)
    assert token.startswith("v1.") and token.isascii()
    assert "王小明" not in token and "138" not in token
    assert data.open("s1", "c1", token) == CHILD


def test_sealing_twice_gives_different_tokens_for_the_same_data(data: PersonalData) -> None:
    first, second = data.seal("s1", "c1", CHILD), data.seal("s1", "c1", dict(reversed(CHILD.items())))
    assert first != second
    assert data.open("s1", "c1", first) == data.open("s1", "c1", second) == CHILD


@pytest.mark.parametrize("at", [3, 10, 30, -1])
def test_a_tampered_token_is_detected(data: PersonalData, at: int) -> None:
    token = data.seal("s1", "c1", CHILD)
    with pytest.raises(PersonalDataError):
        data.open("s1", "c1", _flip(token, at))


@pytest.mark.parametrize("token", ["", "garbage", "v2.AAAA", "v1.", "v1.!!!!", "v1.AAAA", "v1.AAAA=="])
def test_a_malformed_token_is_refused(data: PersonalData, token: str) -> None:
    data.keys.create("s1", "c1")
    with pytest.raises(PersonalDataError):
        data.open("s1", "c1", token)


def test_a_token_with_non_canonical_trailing_bits_is_refused(data: PersonalData) -> None:
    token = data.seal("s1", "c1", {"name": "Wang"})
    assert len(token[3:]) % 4 in (2, 3)
    last = ALPHABET.index(token[-1])
    with pytest.raises(PersonalDataError):
        data.open("s1", "c1", token[:-1] + ALPHABET[last ^ 1])


def test_another_childs_key_cannot_open_the_token(data: PersonalData) -> None:
    token = data.seal("s1", "c1", CHILD)
    data.seal("s1", "c2", {"name": "张伟"})
    with pytest.raises(PersonalDataError):
        data.open("s1", "c2", token)


def test_a_token_is_bound_to_its_school_and_child_even_under_the_same_key(keys: MemoryKeyStore) -> None:
    class SharedKey(MemoryKeyStore):
        def key(self, school_id: str, child_id: str) -> bytes | None:
            return super().key("s1", "c1")

        def create(self, school_id: str, child_id: str) -> bytes:
            return super().create("s1", "c1")

    data = PersonalData(SharedKey())
    token = data.seal("s1", "c1", CHILD)
    with pytest.raises(PersonalDataError):
        data.open("s2", "c1", token)


def test_erasing_a_child_makes_their_tokens_unreadable_and_refuses_a_new_key(data: PersonalData) -> None:
    token = data.seal("s1", "c1", CHILD)
    other = data.seal("s1", "c2", {"name": "张伟"})
    assert data.erase("s1", "c1") is True
    assert data.open("s1", "c1", token) is None
    assert data.keys.key("s1", "c1") is None and data.keys.is_erased("s1", "c1")
    with pytest.raises(ChildErasedError):
        data.keys.create("s1", "c1")
    with pytest.raises(ChildErasedError):
        data.seal("s1", "c1", CHILD)
    assert data.open("s1", "c2", other) == {"name": "张伟"}
    assert data.erase("s1", "c1") is False


def test_erasing_a_child_never_keyed_still_records_the_erasure(keys: MemoryKeyStore) -> None:
    assert keys.key("s1", "c9") is None and not keys.is_erased("s1", "c9")
    assert keys.destroy("s1", "c9") is True
    assert keys.is_erased("s1", "c9")
    with pytest.raises(ChildErasedError):
        keys.create("s1", "c9")


def test_create_is_idempotent_and_keys_differ_between_children(keys: MemoryKeyStore) -> None:
    first = keys.create("s1", "c1")
    assert len(first) == 32
    assert keys.create("s1", "c1") == first == keys.key("s1", "c1")
    assert keys.create("s1", "c2") != first
    assert keys.create("s2", "c1") != first


def test_the_erased_marker_is_a_display_string() -> None:
    assert isinstance(ERASED, str) and "erased" in ERASED
