"""One projector for every read model: each event read and decoded once, one transaction per page for all models,
models at different positions, a failing model that never holds the others back, and rebuilding together."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from projections import catalog
from projections.log import EventLog
from projections.occupancy import occupancy
from projections.rebuild import rebuild, rebuild_together
from projections.registry import READ_MODELS
from projections.runner import Projector, Projectors
from projections.supervisor import Supervisor, lock_key
from service.application.handoff import Handoff
from service.infra.event_log import event_log
from service.reads.readside import ReadSide
from tests.broken_model import broken, failing
from tests.integration.test_projector import rows, wait_until
from tests.support import ctx, handed_to_guardian


class CountingLog(EventLog):
    """The real log, counting how often each position is decoded and how many pages are read."""

    def __init__(self, log: EventLog) -> None:
        super().__init__(log.recorder, log.mapper)
        self.decoded: dict[int, int] = {}
        self.pages = 0

    def decode(self, notification: Any) -> Any:
        self.decoded[notification.id] = self.decoded.get(notification.id, 0) + 1
        return super().decode(notification)

    def page(self, *args: Any, **kwargs: Any) -> Any:
        self.pages += 1
        return super().page(*args, **kwargs)


def prepared(url: str, log: EventLog, page_size: int) -> list[Projector]:
    """Version 1 of every read model, its tables created, at position zero."""
    with psycopg.connect(url, autocommit=True) as conn:
        catalog.ensure_catalog(conn)
    projectors = [Projector(model, url, log, version=1, page_size=page_size) for model in READ_MODELS.values()]
    for projector in projectors:
        projector.prepare()
    return projectors


def test_every_event_is_decoded_once_for_all_models_and_each_page_is_one_transaction(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    handed_to_guardian(postgres_handoff)
    postgres_handoff.care.release(ctx(), "C1", "G1")
    log = CountingLog(event_log(postgres_handoff))
    projectors = prepared(fresh_postgres_url, log, page_size=5)
    group = Projectors(projectors, fresh_postgres_url, log, page_size=5)
    try:
        head = group.catch_up()
    finally:
        group.close()
    assert head == postgres_handoff.recorder.max_notification_id()
    assert log.pages >= 3, "several pages"
    assert log.decoded and set(log.decoded.values()) == {1}, "each event decoded once, however many models use it"
    with psycopg.connect(fresh_postgres_url) as conn:
        reached = conn.execute("SELECT projection, position, updated_at FROM projection_positions").fetchall()
    assert {name for name, _, _ in reached} == set(READ_MODELS)
    assert {position for _, position, _ in reached} == {head}
    # now() is the transaction's start: every model's position was written by one transaction, the last page's
    assert len({written for _, _, written in reached}) == 1
    for model in READ_MODELS.values():
        alone = rebuild(model, fresh_postgres_url, event_log(postgres_handoff))
        assert rows(fresh_postgres_url, model, alone) == rows(fresh_postgres_url, model, 1), model.name


def test_models_at_different_positions_each_get_every_event_exactly_once(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    handed_to_guardian(postgres_handoff)
    log = event_log(postgres_handoff)
    projectors = prepared(fresh_postgres_url, log, page_size=3)
    ahead = Projector(occupancy, fresh_postgres_url, log, version=1)
    ahead.catch_up()  # occupancy is at the head; the others start from zero
    ahead.close()
    postgres_handoff.care.release(ctx(), "C1", "G1")
    group = Projectors(projectors, fresh_postgres_url, log, page_size=3)
    try:
        group.catch_up()
    finally:
        group.close()
    for model in READ_MODELS.values():
        alone = rebuild(model, fresh_postgres_url, log)
        assert rows(fresh_postgres_url, model, alone) == rows(fresh_postgres_url, model, 1), model.name


@pytest.fixture
def breaking() -> Iterator[None]:
    failing["on"] = True
    yield
    failing["on"] = True


def test_a_failing_model_never_holds_the_others_back_and_rejoins_once_mended(
    postgres_handoff: Handoff, fresh_postgres_url: str, breaking: None
) -> None:
    handed_to_guardian(postgres_handoff)
    postgres_handoff.care.release(ctx(), "C1", "G1")
    log = event_log(postgres_handoff)
    supervisor = Supervisor([broken, occupancy], fresh_postgres_url, log, "handoff_events")
    read = ReadSide(fresh_postgres_url, log, postgres_handoff.clock, models=[broken, occupancy])
    supervisor.start()
    try:
        wait_until(lambda: read.status()["broken"]["state"] == "failing")
        postgres_handoff.care.check_in(ctx(), "C2", "T1", None, None)  # more events while one model fails
        head = postgres_handoff.recorder.max_notification_id()
        wait_until(lambda: read.status()["occupancy"]["position"] >= head, timeout=10)
        assert read.status()["broken"]["state"] == "failing", "still failing, still shown, not skipped"
        failing["on"] = False
        wait_until(lambda: read.status()["broken"]["state"] == "live" and read.status()["broken"]["lag_events"] == 0)
        assert rows(fresh_postgres_url, broken, 1) == {"releases": [("C1",)]}
        postgres_handoff.care.transfer(ctx(), "C2", "t2", "T2")
        head = postgres_handoff.recorder.max_notification_id()
        wait_until(lambda: min(read.status()[m]["position"] for m in ("broken", "occupancy")) >= head, timeout=5)
    finally:
        supervisor.close()
        read.close()


def test_rebuilding_every_model_together_equals_each_alone_and_switches_every_model(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    handed_to_guardian(postgres_handoff)
    postgres_handoff.care.release(ctx(), "C1", "G1")
    log = event_log(postgres_handoff)
    alone = {name: rebuild(model, fresh_postgres_url, log) for name, model in READ_MODELS.items()}
    together = rebuild_together(list(READ_MODELS.values()), fresh_postgres_url, log, page_size=7)
    with psycopg.connect(fresh_postgres_url) as conn:
        live = {name: catalog.active_version(conn, name) for name in READ_MODELS}
    assert live == together
    for name, model in READ_MODELS.items():
        assert together[name] == alone[name] + 1
        assert rows(fresh_postgres_url, model, together[name]) == rows(fresh_postgres_url, model, alone[name]), name


def test_a_model_whose_projector_died_elsewhere_is_taken_over_while_commits_keep_coming(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    """Two processes may split the models between them. When one dies, the other takes its models over within
    seconds, even while commits arrive more often than once a second (so the worker never has a quiet second)."""
    handed_to_guardian(postgres_handoff)
    log = event_log(postgres_handoff)
    elsewhere = psycopg.connect(fresh_postgres_url, autocommit=True)  # another process, the live projector of broken
    elsewhere.execute("SELECT pg_advisory_lock(%s)", (lock_key("broken", 1),))
    channel = getattr(postgres_handoff.recorder, "channel_name", "handoff_events")  # as projector_supervisor hears
    supervisor = Supervisor([broken, occupancy], fresh_postgres_url, log, channel)
    read = ReadSide(fresh_postgres_url, log, postgres_handoff.clock, models=[broken, occupancy])
    stop = threading.Event()

    def commits() -> None:  # a notice every 0.2 s: several per second, as in an afternoon
        while not stop.is_set():
            postgres_handoff.care.transfer(ctx("duty_leader"), "C2", "t2", "T2")
            postgres_handoff.care.transfer(ctx("duty_leader"), "C2", "t1", "T1")
            stop.wait(0.2)

    failing["on"] = False
    postgres_handoff.care.check_in(ctx(), "C2", "T1", None, None)
    writer = threading.Thread(target=commits, daemon=True)
    supervisor.start()
    writer.start()
    try:
        head = postgres_handoff.recorder.max_notification_id()
        wait_until(lambda: read.status()["occupancy"]["position"] >= head, timeout=10)
        assert read.status()["broken"]["position"] == 0, "the other process's model is left to it"
        elsewhere.close()  # that process dies
        head = postgres_handoff.recorder.max_notification_id()
        wait_until(lambda: read.status()["broken"]["position"] >= head, timeout=8)
        assert writer.is_alive(), "commits kept coming throughout"
    finally:
        stop.set()
        writer.join(5)
        failing["on"] = True
        supervisor.close()
        read.close()
