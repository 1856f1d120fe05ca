"""Policies act exactly once: across reruns, across a crash between the reaction and the saved position, and
across a restart of the process."""

from __future__ import annotations

import psycopg
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from events.custody import ReleaseRefused
from events.incidents import IncidentOpened
from service.application.handoff import Handoff
from service.http.app import create_app
from service.infra.event_log import event_log
from service.processes.policies import PolicyFollower, refusal_opens_incident
from service.reads.readside import ReadSide
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
    assert "X9" not in opened[0].summary, "free text is copied into exports: it names no person"
    refuse_a_stranger(postgres_handoff, "X8")
    refusal = postgres_handoff.mapper.to_domain_event(
        postgres_handoff.recorder.select_notifications(1, 100_000, topics=[get_topic(ReleaseRefused)])[-1]
    )
    refusal_opens_incident(postgres_handoff, refusal)  # the reaction happened, then the process died
    restarted = PolicyFollower(postgres_handoff, fresh_postgres_url)  # before saving its position
    with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:
        restarted.run_once(conn)
    assert len(incidents(postgres_handoff)) == 2


def test_a_refused_missing_child_reaction_is_parked_and_shown_on_health_and_metrics(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    """The reaction is refused (its incident id was taken by hand first): it leaves a parked entry, not a log line,
    and the reactions after it still run."""
    h = postgres_handoff
    h.care.check_in(ctx(), "C1", "T1", None, None)
    h.headcounts.record_headcount(ctx("duty_leader"), "T1", [])
    (counted,) = [
        h.mapper.to_domain_event(row)
        for row in h.recorder.select_notifications(1, 1000, topics=["events.incidents:HeadcountRecorded"])
    ]
    taken = f"headcount-{counted.originator_id.hex}-{counted.originator_version}"
    h.incidents.open_incident(ctx("duty_leader"), "other", ["C1"], [], "opened by hand", taken)
    refuse_a_stranger(h)
    follower = PolicyFollower(h, fresh_postgres_url)
    with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:
        follower.run_once(conn)
    assert [i.kind for i in incidents(h)] == ["other", "unauthorised_pickup_attempt"], "the next reaction ran"
    read = ReadSide(fresh_postgres_url, event_log(h), h.clock)
    try:
        client = TestClient(create_app(h, read))
        shown = client.get("/health").json()["parked_reactions"]
        scraped = client.get("/metrics").text
    finally:
        read.close()
    assert shown["count"] == 1
    (entry,) = shown["latest"]
    assert entry["reaction"] == "missing_children_open_incident"
    assert entry["code"] == "incident_already_opened" and entry["school_id"] == "S1"
    assert "handoff_parked_reactions 1.0" in scraped
