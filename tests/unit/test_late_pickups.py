"""The late-pickup sweeper, on a controlled clock: the incident opens at the right minute, never twice, and
resolves itself when the child is released."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from eventsourcing.utils import get_topic

from events.custody import ChildReleased
from events.incidents import IncidentOpened
from service.application.handoff import Handoff
from service.processes.policies import late_pickup_id, release_resolves_late_pickup, sweep_late_pickups
from tests.support import AFTERNOON, SCHOOL, Clock, ctx, handed_to_guardian, make_handoff, setup_school

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = AFTERNOON.astimezone(SHANGHAI).date()


def at(hhmm: str) -> datetime:
    return datetime.combine(DAY, time.fromisoformat(hhmm), SHANGHAI)


def opened(handoff: Handoff) -> list[IncidentOpened]:
    rows = handoff.recorder.select_notifications(1, 100_000, topics=[get_topic(IncidentOpened)])
    return [handoff.mapper.to_domain_event(row) for row in rows]


def test_a_child_still_in_care_after_batch_and_grace_gets_one_incident_that_resolves_on_release() -> None:
    clock = Clock()
    handoff = make_handoff(clock=clock)
    setup_school(handoff)  # C1's batch B2 ends at 17:30; the grace period is 10 minutes
    clock.now = at("16:30")
    handed_to_guardian(handoff)
    for minute in ("17:30", "17:39"):
        assert sweep_late_pickups(handoff, SCHOOL, at(minute)) == [], minute
    assert sweep_late_pickups(handoff, SCHOOL, at("17:40")) == ["C1"]
    sweep_late_pickups(handoff, SCHOOL, at("17:41"))
    assert [(i.kind, i.children) for i in opened(handoff)] == [("late_pickup", ["C1"])]
    clock.now = at("17:50")
    handoff.care.release(ctx(), "C1", "G1")
    release = handoff.mapper.to_domain_event(
        handoff.recorder.select_notifications(1, 100_000, topics=[get_topic(ChildReleased)])[-1]
    )
    assert isinstance(release, ChildReleased)
    for _ in range(2):  # seen again after a restart: resolved once
        release_resolves_late_pickup(handoff, release)
    incident = handoff.incident(SCHOOL, late_pickup_id(SCHOOL, "C1", DAY))
    assert (incident.status, incident.outcome.startswith("collected at")) == ("resolved", True)
    assert sweep_late_pickups(handoff, SCHOOL, at("18:30")) == []
