"""One late-pickup rule (`School.is_late_pickup`: still in care 10 minutes after the end of the child's release batch):
the late-pickup incidents, the regulator's count and the board's late marks agree. The regulator used to count
every release after the end of service, the incidents the batch end plus 10 minutes."""

from __future__ import annotations

import psycopg

from service.application.handoff import Handoff
from service.processes.policies import sweep_late_pickups
from tests.integration.test_corrections import assert_rebuild_equal, at, counts, project
from tests.support import SCHOOL, Clock, ctx, handed_to_guardian


def test_the_regulator_counts_late_pickups_by_the_rule_of_the_late_pickup_incidents(
    postgres_handoff: Handoff, fresh_postgres_url: str, clock: Clock
) -> None:
    h = postgres_handoff  # service ends at 17:30, and so does batch B2 of C1 and C2
    clock.now = at("16:30")
    handed_to_guardian(h)
    h.care.check_in(ctx(), "C2", "T1", None, None)
    h.care.register_arrival(ctx("gate"), "C2", "G5", "pickup_code", "4444")
    h.care.confirm(ctx(), "C2", "G5", True, True)
    clock.now = at("17:35")  # after the end of service, within the 10 minutes after C1's batch: not late
    h.care.release(ctx(), "C1", "G1")
    for minute in ("17:35", "17:39", "17:40", "17:45"):
        sweep_late_pickups(h, SCHOOL, at(minute))
    clock.now = at("17:50")
    h.care.release(ctx(), "C2", "G5")  # still in care at 17:40: late
    project(h, fresh_postgres_url, 1)
    late = [
        h.mapper.to_domain_event(row).children
        for row in h.recorder.select_notifications(1, 100_000, topics=["events.incidents:IncidentOpened"])
    ]
    assert late == [["C2"]]
    with psycopg.connect(fresh_postgres_url) as conn:
        assert counts(conn)["late_pickups"] == len(late) == 1
        assert counts(conn)["released"] == 2
    assert_rebuild_equal(h, fresh_postgres_url)
