"""Staff members and their tokens, schools and their places, and roster entries: the pure aggregates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, timezone
from functools import reduce
from typing import Any

import pytest

from aggregates import roster, school, staff
from aggregates.base import EventMeta, InvalidCommandError
from aggregates.roster import ChildAlreadyOnRosterError, RosterEntry, roster_entry_id
from aggregates.school import (
    PLACE_KINDS,
    Place,
    PlaceAlreadyExistsError,
    PlaceNotFoundError,
    School,
    SchoolAlreadyRegisteredError,
    UnknownTimeZoneError,
    school_id_for,
)
from aggregates.staff import (
    CannotHoldCustodyError,
    Role,
    StaffAlreadyRegisteredError,
    StaffMember,
    TokenNotFoundError,
    staff_stream_id,
)
from events.roster import ChildAddedToRoster
from events.school import PlaceAdded, SchoolRegistered
from events.staff import StaffMemberRegistered, StaffTokenIssued, StaffTokenRevoked
from tests.unit.refusals import assert_refused

SCHOOL = "S1"
DISTRICT = "D1"
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=timezone.utc)


def meta(key: str = "k1", at: datetime = NOW) -> EventMeta:
    return EventMeta(
        school_id=SCHOOL,
        actor_id="system",
        actor_role="system",
        device_id="cli",
        idempotency_key=key,
        device_time=at,
        timestamp=at,
    )


def replayed(evolve: Callable[[Any, Any], Any], state: Any, events: Iterable[Any]) -> Any:
    return reduce(evolve, events, state)


# Staff members


def unregistered(staff_id: str = "t1") -> StaffMember:
    return StaffMember.unregistered(SCHOOL, staff_id)


def registered(role: Role = Role.TEACHER, staff_id: str = "t1") -> StaffMember:
    state = unregistered(staff_id)
    return replayed(staff.evolve, state, state.register(meta(), role, DISTRICT))


def with_token(state: StaffMember, token_id: str, token_hash: str, expires_at: datetime = NOW + timedelta(days=30)):
    return replayed(staff.evolve, state, state.issue_token(meta(), token_id, token_hash, expires_at))


def revoked(state: StaffMember, token_id: str | None = None) -> StaffMember:
    return replayed(staff.evolve, state, state.revoke_tokens(meta(), "lost tablet", token_id))


def test_registering_staff_records_their_role_and_district():
    state = unregistered("d1")
    events = state.register(meta(), Role.DUTY_LEADER, DISTRICT)
    assert [type(e) for e in events] == [StaffMemberRegistered]
    assert (events[0].staff_id, events[0].role, events[0].district_id) == ("d1", "duty_leader", DISTRICT)
    after = replayed(staff.evolve, state, events)
    assert (after.role, after.district_id, after.version) == (Role.DUTY_LEADER, DISTRICT, 1)


def test_registering_staff_twice_is_refused():
    assert_refused(
        registered(),
        lambda s: s.register(meta(), Role.ADMIN, DISTRICT),
        StaffAlreadyRegisteredError,
        "staff_already_registered",
    )


def test_staff_streams_are_keyed_by_scope_and_staff_id():
    assert unregistered("t1").id == staff_stream_id(SCHOOL, "t1")
    assert staff_stream_id("S1", "t1") != staff_stream_id("S2", "t1")


@pytest.mark.parametrize("role", [Role.GATE, Role.TEACHER, Role.DUTY_LEADER])
def test_gate_staff_teachers_and_duty_leaders_may_hold_custody(role):
    registered(role).require_custodian()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.REGULATOR])
def test_admins_and_regulators_cannot_hold_custody(role):
    error = assert_refused(
        registered(role), lambda s: s.require_custodian(), CannotHoldCustodyError, "cannot_hold_custody"
    )
    assert role.value in str(error)


def test_an_unregistered_staff_member_cannot_hold_custody():
    assert_refused(unregistered(), lambda s: s.require_custodian(), CannotHoldCustodyError, "cannot_hold_custody")


def test_issuing_a_token_records_only_its_hash_and_expiry():
    state = registered()
    events = state.issue_token(meta(), "tok1", "sha-of-secret", NOW + timedelta(hours=12))
    assert [type(e) for e in events] == [StaffTokenIssued]
    assert (events[0].token_id, events[0].token_hash, events[0].expires_at) == (
        "tok1",
        "sha-of-secret",
        NOW + timedelta(hours=12),
    )
    assert events[0].originator_version == state.version + 1


def test_a_live_token_with_the_right_hash_is_accepted():
    assert with_token(registered(), "tok1", "right").accepts("tok1", "right", NOW) is True


def test_a_token_with_the_wrong_hash_is_not_accepted():
    assert with_token(registered(), "tok1", "right").accepts("tok1", "wrong", NOW) is False


def test_an_unknown_token_id_is_not_accepted():
    assert with_token(registered(), "tok1", "right").accepts("tok2", "right", NOW) is False


def test_a_token_is_not_accepted_from_the_instant_it_expires():
    state = with_token(registered(), "tok1", "right", expires_at=NOW)
    assert state.accepts("tok1", "right", NOW - timedelta(microseconds=1)) is True
    assert state.accepts("tok1", "right", NOW) is False
    assert state.accepts("tok1", "right", NOW + timedelta(days=1)) is False


def test_a_revoked_token_is_not_accepted():
    state = revoked(with_token(registered(), "tok1", "right"), "tok1")
    assert state.accepts("tok1", "right", NOW) is False


def test_revoking_one_token_leaves_the_others_live():
    state = with_token(with_token(registered(), "tok1", "h1"), "tok2", "h2")
    events = state.revoke_tokens(meta(), "lost", "tok1")
    assert [(type(e), e.token_id, e.reason) for e in events] == [(StaffTokenRevoked, "tok1", "lost")]
    after = replayed(staff.evolve, state, events)
    assert (after.accepts("tok1", "h1", NOW), after.accepts("tok2", "h2", NOW)) == (False, True)


def test_revoking_all_revokes_every_live_token_with_consecutive_versions():
    state = with_token(with_token(with_token(registered(), "tok1", "h1"), "tok2", "h2"), "tok3", "h3")
    state = revoked(state, "tok2")
    events = state.revoke_tokens(meta(), "left the school")
    assert [e.token_id for e in events] == ["tok1", "tok3"]
    assert [e.originator_version for e in events] == [state.version + 1, state.version + 2]
    after = replayed(staff.evolve, state, events)
    assert not any(after.accepts(t, h, NOW) for t, h in (("tok1", "h1"), ("tok2", "h2"), ("tok3", "h3")))
    assert after.version == state.version + 2


def test_revoking_all_when_no_token_is_live_records_nothing():
    assert revoked(with_token(registered(), "tok1", "h1")).revoke_tokens(meta(), "again") == []


def test_revoking_an_unknown_token_id_is_refused():
    assert_refused(
        with_token(registered(), "tok1", "h1"),
        lambda s: s.revoke_tokens(meta(), "lost", "tok9"),
        TokenNotFoundError,
        "token_not_found",
    )


def test_evolve_of_a_revocation_for_an_unknown_token_does_not_raise():
    stray = with_token(registered(), "tok1", "h1").revoke_tokens(meta(), "lost", "tok1")[0]
    after = staff.evolve(registered(), stray)
    assert (after.tokens, after.version) == ({}, stray.originator_version)


def test_staff_project_rebuilds_the_same_member():
    state = unregistered("g1")
    events = state.register(meta(), Role.GATE, DISTRICT)
    state = replayed(staff.evolve, state, events)
    events += state.issue_token(meta(), "tok1", "h1", NOW + timedelta(days=1))
    assert staff.project(None, events) == replayed(staff.evolve, unregistered("g1"), events)


# Schools and places


def registered_school(time_zone: str = "Asia/Shanghai") -> School:
    state = School.unregistered(SCHOOL)
    return replayed(school.evolve, state, state.register(meta(), "Test School", DISTRICT, time_zone))


def with_place(state: School, place_code: str, kind: str = "temporary_class") -> School:
    return replayed(school.evolve, state, state.add_place(meta(), place_code, kind, "临时班", "Temporary class"))


def test_registering_a_school_records_name_district_and_time_zone():
    state = School.unregistered(SCHOOL)
    events = state.register(meta(), "Test School", DISTRICT, "Asia/Urumqi")
    assert [type(e) for e in events] == [SchoolRegistered]
    assert (events[0].name, events[0].district_id, events[0].time_zone) == ("Test School", DISTRICT, "Asia/Urumqi")
    after = replayed(school.evolve, state, events)
    assert (after.id, after.name, after.time_zone, after.version) == (
        school_id_for(SCHOOL),
        "Test School",
        "Asia/Urumqi",
        1,
    )


def test_registering_a_school_twice_is_refused():
    assert_refused(
        registered_school(),
        lambda s: s.register(meta(), "Again", DISTRICT, "Asia/Shanghai"),
        SchoolAlreadyRegisteredError,
        "school_already_registered",
    )


@pytest.mark.parametrize(
    "time_zone", ["Mars/Olympus_Mons", "", "Asia", "Asia/", "/etc/localtime", "../Asia/Shanghai", "zone.tab"]
)
def test_registering_with_an_unknown_time_zone_is_refused(time_zone):
    error = assert_refused(
        School.unregistered(SCHOOL),
        lambda s: s.register(meta(), "X", DISTRICT, time_zone),
        UnknownTimeZoneError,
        "unknown_time_zone",
    )
    assert error.status == 422


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (datetime(2026, 11, 30, 15, 59, 59, tzinfo=timezone.utc), date(2026, 11, 30)),
        (datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc), date(2026, 12, 1)),
        (datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc), date(2026, 12, 1)),
        (datetime(2026, 12, 1, 0, 30, tzinfo=timezone.utc), date(2026, 12, 1)),
        (datetime(2026, 12, 1, 15, 59, tzinfo=timezone.utc), date(2026, 12, 1)),
    ],
)
def test_the_service_day_is_the_schools_local_date_not_the_utc_date(instant, day):
    assert registered_school("Asia/Shanghai").service_day(instant) == day


def test_the_service_day_follows_the_schools_own_time_zone():
    instant = datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc)
    assert registered_school("Europe/London").service_day(instant) == date(2026, 11, 30)


def test_local_now_is_the_schools_wall_clock():
    local = registered_school("Asia/Shanghai").local_now(datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc))
    assert (local.hour, local.minute, local.utcoffset()) == (17, 0, timedelta(hours=8))


def test_adding_a_place_records_its_code_kind_and_labels():
    state = registered_school()
    events = state.add_place(meta(), "T1", "temporary_class", "三年级临时班", "Grade 3 temporary class")
    assert [type(e) for e in events] == [PlaceAdded]
    after = replayed(school.evolve, state, events)
    assert after.require_place("T1") == Place("T1", "temporary_class", "三年级临时班", "Grade 3 temporary class")
    assert after.version == state.version + 1


@pytest.mark.parametrize("kind", PLACE_KINDS)
def test_every_known_kind_of_place_can_be_added(kind):
    assert [type(e) for e in registered_school().add_place(meta(), "P", kind, "地方", "Place")] == [PlaceAdded]


def test_adding_a_place_with_a_code_already_used_is_refused():
    error = assert_refused(
        with_place(registered_school(), "T1"),
        lambda s: s.add_place(meta(), "T1", "club_room", "x", "x"),
        PlaceAlreadyExistsError,
        "place_already_exists",
    )
    assert "T1" in str(error)


def test_adding_a_place_of_an_unknown_kind_is_refused():
    error = assert_refused(
        registered_school(),
        lambda s: s.add_place(meta(), "R1", "rooftop", "x", "x"),
        InvalidCommandError,
        "invalid_command",
    )
    assert "rooftop" in str(error)


def test_requiring_an_unknown_place_is_refused():
    error = assert_refused(
        with_place(registered_school(), "T1"), lambda s: s.require_place("T9"), PlaceNotFoundError, "place_not_found"
    )
    assert "T9" in str(error)


def test_school_project_rebuilds_the_same_school():
    state = School.unregistered(SCHOOL)
    events = state.register(meta(), "Test School", DISTRICT, "Asia/Shanghai")
    state = replayed(school.evolve, state, events)
    events += state.add_place(meta(), "T1", "temporary_class", "x", "x")
    assert school.project(None, events) == replayed(school.evolve, School.unregistered(SCHOOL), events)


# Roster entries


def test_adding_a_child_to_the_roster_records_home_class_and_grade():
    state = RosterEntry.absent(SCHOOL, "C1")
    events = state.add(meta(), "3-2", 3)
    assert [type(e) for e in events] == [ChildAddedToRoster]
    event = events[0]
    assert (event.originator_id, event.originator_version) == (roster_entry_id(SCHOOL, "C1"), 1)
    assert (event.school_id, event.child_id, event.home_class, event.grade) == (SCHOOL, "C1", "3-2", 3)
    after = replayed(roster.evolve, state, events)
    assert (after.home_class, after.grade, after.version) == ("3-2", 3, 1)


def test_adding_a_child_to_the_roster_twice_is_refused():
    state = RosterEntry.absent(SCHOOL, "C1")
    state = replayed(roster.evolve, state, state.add(meta(), "3-2", 3))
    assert_refused(state, lambda s: s.add(meta(), "4-1", 4), ChildAlreadyOnRosterError, "child_already_on_roster")


def test_roster_project_rebuilds_the_same_entry():
    events = RosterEntry.absent(SCHOOL, "C1").add(meta(), "3-2", 3)
    assert roster.project(None, events) == replayed(roster.evolve, RosterEntry.absent(SCHOOL, "C1"), events)


def test_the_roster_entry_stream_is_keyed_by_school_and_child():
    assert roster_entry_id("S1", "C1") != roster_entry_id("S2", "C1") != roster_entry_id("S1", "C2")


def test_every_event_carries_the_command_envelope():
    events = [
        *School.unregistered(SCHOOL).register(meta("k7"), "Test School", DISTRICT, "Asia/Shanghai"),
        *unregistered().register(meta("k7"), Role.TEACHER, DISTRICT),
        *RosterEntry.absent(SCHOOL, "C1").add(meta("k7"), "3-2", 3),
    ]
    for event in events:
        assert (event.school_id, event.actor_id, event.actor_role, event.device_id, event.idempotency_key) == (
            SCHOOL,
            "system",
            "system",
            "cli",
            "k7",
        )
        assert (event.device_time, event.timestamp) == (NOW, NOW)
