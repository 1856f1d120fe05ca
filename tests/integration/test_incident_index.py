"""The day's incidents and the registered schools come from the views plus the few events the views have not
reached: never a scan of the whole log once the views are built, and never missing an incident opened a moment ago."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

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
from service.infra.settings import Settings
from service.processes.policies import PolicyFollower
from service.reads.index import ViewIndex
from service.reads.readside import ReadSide
from service.runtime import projector_process
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


def test_the_projector_process_sweeps_the_schools_found_in_the_views_not_in_the_whole_log(
    postgres_handoff: Handoff, fresh_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`handoff project` runs the late-pickup sweep every minute for every school: the schools (and each school's
    incidents) must come from the views, not from a scan of the log from its first position, which grows with it."""
    h, url = postgres_handoff, fresh_postgres_url
    for model in (district, incidents):
        rebuild(model, url, event_log(h))
    settings = Settings(data_dir=tmp_path, signing_key_file=tmp_path / "key.pem", notifier="off")
    followers, read = projector_process(h, url, settings)
    policies = next(follower for follower in followers if isinstance(follower, PolicyFollower))
    asked: list[int] = []
    select = h.recorder.select_notifications
    monkeypatch.setattr(
        h.recorder, "select_notifications", lambda start, *a, **k: asked.append(start) or select(start, *a, **k)
    )
    assert policies.handoff.school_ids() == [SCHOOL]
    assert policies.handoff.index.incident_ids(SCHOOL, DAY) == []
    assert asked and 1 not in asked, asked  # only the tails after the views' positions
    read.close()
