"""Policies act exactly once: across reruns, across a crash between the reaction and the saved position, and
across a restart of the process."""

from __future__ import annotations

import psycopg
from eventsourcing.utils import get_topic

from events.custody import ReleaseRefused
from events.incidents import IncidentOpened
from service.application.handoff import Handoff
from service.processes.policies import PolicyFollower, refusal_opens_incident
from tests.support import ctx


def incidents(handoff: Handoff) -> list[IncidentOpened]:
    rows = handoff.recorder.select_notifications(1, 100_000, topics=[get_topic(IncidentOpened)])
    return [handoff.mapper.to_domain_event(row) for row in rows]


def refuse_a_stranger(handoff: Handoff, who: str = "X9") -> None:
    """A person not on C1's list comes to the gate: a recorded refusal."""
    if handoff.custody("S1", "C1", handoff.clock().date()).version == 0:
        handoff.care.check_in(ctx(), "C1", "T1", None, None)
    handoff.care.register_arrival(ctx("gate"), "C1", who, "id_document", None)


def test_every_refusal_opens_exactly_one_incident_even_across_a_crash_and_a_restart(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    refuse_a_stranger(postgres_handoff)
    follower = PolicyFollower(postgres_handoff, fresh_postgres_url)
    with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:
        follower.run_once(conn)
        follower.run_once(conn)
    opened = incidents(postgres_handoff)
    assert [(i.kind, i.children) for i in opened] == [("unauthorised_pickup_attempt", ["C1"])]
    assert opened[0].source.startswith("ReleaseRefused:")
    refuse_a_stranger(postgres_handoff, "X8")
    refusal = postgres_handoff.mapper.to_domain_event(
        postgres_handoff.recorder.select_notifications(1, 100_000, topics=[get_topic(ReleaseRefused)])[-1]
    )
    refusal_opens_incident(postgres_handoff, refusal)  # the reaction happened, then the process died
    restarted = PolicyFollower(postgres_handoff, fresh_postgres_url)  # before saving its position
    with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:
        restarted.run_once(conn)
    assert len(incidents(postgres_handoff)) == 2
