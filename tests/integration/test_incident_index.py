"""The day's incidents and the registered schools come from the views plus the few events the views have not
reached: never a scan of the whole log once the views are built, and never missing an incident opened a moment ago."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

import pytest
from eventsourcing.persistence import Notification

from projections.district import district
from projections.incidents import incidents
from projections.log import EventLog
from projections.occupancy import occupancy
from projections.rebuild import rebuild
from service.application.handoff import Handoff
from service.application.index import LogIndex
from service.application.roster_sync import RosterSync
from service.infra.event_log import event_log
from service.reads.index import ViewIndex
from service.reads.readside import ReadSide
from tests.support import ACTORS, OTHER_SCHOOL, SCHOOL, ctx, setup_school, system_actor

DAY = date(2026, 11, 30)


class CountingLog(EventLog):
    """The real log, remembering from which position each page was asked for."""

    def __init__(self, log: EventLog) -> None:
        super().__init__(log.recorder, log.mapper)
        self.asked_after: list[int] = []

    def page(
        self, after: int, limit: int, stop: int | None = None, topics: Sequence[str] = ()
    ) -> Sequence[Notification]:
        self.asked_after.append(after)
        return super().page(after, limit, stop, topics)


@pytest.fixture
def read(postgres_handoff: Handoff, fresh_postgres_url: str) -> Iterator[ReadSide]:
    side = ReadSide(fresh_postgres_url, CountingLog(event_log(postgres_handoff)), postgres_handoff.clock)
    yield side
    side.close()


def open_incident(h: Handoff, incident_id: str, school: str = SCHOOL) -> None:
    actor = "duty_leader" if school == SCHOOL else ACTORS["other_teacher"]
    h.incidents.open_incident(ctx(actor, school=school), "other", ["C1"], [], "a note", incident_id)


def test_the_views_answer_and_only_the_tail_of_the_log_is_read(
    postgres_handoff: Handoff, fresh_postgres_url: str, read: ReadSide
) -> None:
    h = postgres_handoff
    setup_school(h, OTHER_SCHOOL)
    open_incident(h, "first")
    open_incident(h, "elsewhere", OTHER_SCHOOL)
    open_incident(h, "second")
    rebuild(incidents, fresh_postgres_url, event_log(h))
    rebuild(district, fresh_postgres_url, event_log(h))
    built_at = h.recorder.max_notification_id()
    open_incident(h, "just-now")  # the views have not seen it yet
    h.setup.register_school(ctx(system_actor("S3"), school="S3"), "Third", "D1", "Asia/Shanghai")
    index = ViewIndex(read)
    assert index.incident_ids(SCHOOL, DAY) == ["first", "second", "just-now"]
    assert index.incident_ids(OTHER_SCHOOL, DAY) == ["elsewhere"]
    assert index.school_ids() == ["S1", "S2", "S3"]
    assert min(read.events.asked_after) >= built_at, "only the log after the views' position is read"
    log = LogIndex(h.recorder, h.mapper)
    assert index.incident_ids(SCHOOL, DAY) == log.incident_ids(SCHOOL, DAY)
    assert index.school_ids() == log.school_ids()


def test_before_the_views_exist_the_log_answers(postgres_handoff: Handoff, read: ReadSide) -> None:
    open_incident(postgres_handoff, "first")
    assert ViewIndex(read).incident_ids(SCHOOL, DAY) == ["first"]
    assert ViewIndex(read).school_ids() == [SCHOOL]


def test_the_day_closing_and_the_incident_list_go_through_the_index(
    postgres_handoff: Handoff, fresh_postgres_url: str, read: ReadSide
) -> None:
    h = postgres_handoff
    open_incident(h, "first")
    rebuild(incidents, fresh_postgres_url, event_log(h))
    h.index = ViewIndex(read)
    assert h.incidents.children_in_open_incidents(SCHOOL, DAY) == {"C1": ["first"]}
    h.incidents.resolve_incident(ctx("duty_leader"), "first", "found in the library")
    assert h.incidents.children_in_open_incidents(SCHOOL, DAY) == {}
    listed = h.incidents.incidents_on(ACTORS["duty_leader"], SCHOOL, DAY)
    assert [(i["incident_id"], i["status"]) for i in listed] == [("first", "resolved")]


def test_a_schools_roster_comes_from_the_occupancy_view_and_the_tail(
    postgres_handoff: Handoff, fresh_postgres_url: str, read: ReadSide
) -> None:
    h = postgres_handoff
    setup_school(h, OTHER_SCHOOL)
    rebuild(occupancy, fresh_postgres_url, event_log(h))
    built_at = h.recorder.max_notification_id()
    h.roster.add_child(ctx(system_actor(SCHOOL), school=SCHOOL), "C9", "3-2", 3)  # the view has not seen it yet
    index = ViewIndex(read)
    assert index.roster_child_ids(SCHOOL) == {"C1", "C2", "C3", "C9"}
    assert index.roster_child_ids(OTHER_SCHOOL) == {"C1", "C2", "C3"}
    assert min(read.events.asked_after) >= built_at, "only the log after the view's position is read"
    assert index.roster_child_ids(SCHOOL) == LogIndex(h.recorder, h.mapper).roster_child_ids(SCHOOL)
    h.index = index
    assert RosterSync(h).roster_children(SCHOOL) == {"C1", "C2", "C3", "C9"}
