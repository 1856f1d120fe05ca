"""Roster import and erasure on real PostgreSQL: names only ever sealed, a second import records nothing, a bad
file changes nothing, and an erased child still loads everywhere, shown as erased."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from aggregates.roster import ChildAlreadyErasedError
from aggregates.staff import Role
from projections.catalog import ensure_catalog
from projections.log import EventLog
from projections.registry import READ_MODELS
from projections.runner import Projector
from service.application.context import Actor
from service.application.handoff import Handoff
from service.application.personal_data import ERASED
from service.application.roster_import import BadRosterFileError, read_roster
from service.infra.key_store import PostgresKeyStore
from service.infra.settings import postgres_env
from tests.support import ACTORS, AFTERNOON, SECRET, Clock, ctx, handed_to_guardian, make_handoff, setup_school
from tests.unit.test_roster_files import EXPECTED, bundle, write_bundle

NAMES = ("Alice", "Bob", "Gail", "Ray", "Example")


@pytest.fixture
def keyed_handoff(fresh_postgres_url: str) -> Handoff:
    handoff = make_handoff(
        postgres_env(fresh_postgres_url), Clock(), PostgresKeyStore(fresh_postgres_url, SECRET.encode())
    )
    setup_school(handoff, EXPECTED.school_id)
    return handoff


def raw_event_bytes(url: str) -> bytes:
    with psycopg.connect(url) as conn:
        return b"".join(bytes(row[0]) for row in conn.execute("SELECT state FROM handoff_events"))


def test_a_oneroster_bundle_is_imported_once_with_names_only_sealed(
    keyed_handoff: Handoff, fresh_postgres_url: str, tmp_path: Path
) -> None:
    school = EXPECTED.school_id
    roster = read_roster(write_bundle(tmp_path / "bundle", bundle()), school)
    admin = Actor("a1", Role.ADMIN, school, "D1")
    added = keyed_handoff.roster.import_roster(ctx(admin, school=school), roster)
    assert added["children_added"] == len(EXPECTED.children)
    teacher = ACTORS["teacher"].__class__("t1", ACTORS["teacher"].role, school, "D1")
    card = keyed_handoff.roster.child_card(teacher, school, "S-0001")
    assert (card["name"], card["home_class"], card["homeroom_teacher_id"]) == ("ExampleAlice", "3-1", "T-001")
    assert "usr-p2" in keyed_handoff.guardians(school, "S-0001").authorisations
    # sealed values are long base64url runs, in which a short name such as "Ray" turns up by chance: leave them out
    stored = re.sub(rb"v1\.[A-Za-z0-9_-]{24,}", b"", raw_event_bytes(fresh_postgres_url))
    assert not [name for name in NAMES if name.encode() in stored], "no plaintext name in the event store"
    head = keyed_handoff.recorder.max_notification_id()
    again = keyed_handoff.roster.import_roster(ctx(admin, school=school), roster)
    assert again["children_added"] == again["guardians_added"] == 0
    assert keyed_handoff.recorder.max_notification_id() == head


def test_a_broken_roster_file_reports_its_lines_and_changes_nothing(keyed_handoff: Handoff, tmp_path: Path) -> None:
    files = bundle()
    next(user for user in files["users.csv"] if user.get("role") == "student")["grades"] = "99"
    head = keyed_handoff.recorder.max_notification_id()
    with pytest.raises(BadRosterFileError) as refused:
        read_roster(write_bundle(tmp_path / "bundle", files), EXPECTED.school_id)
    problems = refused.value.details["problems"]
    assert problems and all(p["file"] and p["line"] >= 1 for p in problems)
    assert keyed_handoff.recorder.max_notification_id() == head


def test_an_erased_child_still_loads_everywhere_and_shows_as_erased(
    fresh_postgres_url: str,
) -> None:
    handoff = make_handoff(
        postgres_env(fresh_postgres_url), Clock(), PostgresKeyStore(fresh_postgres_url, SECRET.encode())
    )
    setup_school(handoff)
    handoff.roster.add_child(ctx("admin"), "C9", "3-1", 3, name="王小明", sex="male")
    handed_to_guardian(handoff)
    assert handoff.roster.child_card(ACTORS["teacher"], "S1", "C9")["name"] == "王小明"
    handoff.roster.erase_child(ctx("admin"), "C9", "guardian asked under PIPL")
    card = handoff.roster.child_card(ACTORS["teacher"], "S1", "C9")
    assert (card["name"], card["erased"]) == (ERASED, True)
    assert "王小明".encode() not in raw_event_bytes(fresh_postgres_url)
    with psycopg.connect(fresh_postgres_url) as conn:
        assert conn.execute("SELECT wrapped_key FROM child_keys WHERE child_id = 'C9'").fetchone() == (None,)
    with pytest.raises(ChildAlreadyErasedError):
        handoff.roster.erase_child(ctx("admin"), "C9", "again")
    handoff.roster.erase_child(ctx("admin"), "C1", "moved away")
    day = handoff.care.child_day(ACTORS["teacher"], "S1", "C1", AFTERNOON.date())
    assert [h["type"] for h in day["history"]][:1] == ["ChildCheckedIn"]
    assert handoff.enrolments.enrolment_view(ACTORS["admin"], "S1", "C1", "2026-27")["priority"] == {"erased": True}
    catalog_ready(fresh_postgres_url)
    for model in READ_MODELS.values():
        projector = Projector(model, fresh_postgres_url, EventLog(handoff.recorder, handoff.mapper), version=1)
        projector.prepare()
        assert projector.catch_up() == handoff.recorder.max_notification_id(), model.name
        projector.close()


def catalog_ready(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_catalog(conn)
