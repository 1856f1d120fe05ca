"""Guardian notifications on PostgreSQL: arrivals, releases and incidents fill the outbox exactly once; the notifier
delivers through a real webhook, and an outage of the gateway delays messages but loses none."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest

from aggregates.base import ForbiddenError
from events.notifications import GuardianMessageDelivered, GuardianMessageDeliveryFailed, GuardianMessageQueued
from projections import catalog, outbox
from projections.log import EventLog
from projections.runner import Projector
from service.application.handoff import Handoff
from service.processes.notifier import ConsoleAdapter, Notifier, WebhookAdapter
from service.processes.policies import PolicyFollower
from service.reads.queries import Views
from service.reads.readside import ReadSide
from tests.support import ACTORS, Clock, ctx, handed_to_guardian

SECRET = "gateway-shared-secret"


class Gateway:
    """A messaging gateway on loopback that can be taken down and brought back on the same port."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.server: ThreadingHTTPServer | None = None
        self.port = self.up()
        self.down()

    def up(self) -> int:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", getattr(self, "port", 0)), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.server.server_address[1]

    def down(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/messages"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    found = Gateway()
    yield found
    found.down()


def stored(handoff: Handoff, event_type: type) -> list[Any]:
    topic = f"{event_type.__module__}:{event_type.__qualname__}"
    rows = handoff.recorder.select_notifications(1, 100_000, topics=[topic])
    return [handoff.mapper.to_domain_event(row) for row in rows]


def react(handoff: Handoff, url: str) -> None:
    """Run the policies over everything new, as a freshly started process would."""
    with psycopg.connect(url, autocommit=True) as conn:
        PolicyFollower(handoff, url).run_once(conn)


def project_outbox(handoff: Handoff, url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        catalog.ensure_catalog(conn)
    projector = Projector(outbox.outbox, url, EventLog(handoff.recorder, handoff.mapper), version=1)
    projector.prepare()
    projector.catch_up()
    projector.close()
    with psycopg.connect(url, autocommit=True) as conn:
        catalog.activate(conn, "outbox", 1)


def an_afternoon(handoff: Handoff) -> None:
    """C1 collected by G1; an injury of C2 (guardian G5) recorded by a teacher."""
    handed_to_guardian(handoff)
    handoff.care.release(ctx(), "C1", "G1")
    handoff.incidents.open_incident(ctx(), "injury", ["C2"], ["t1"], "Grazed knee in the playground", "inj-1")


def test_arrivals_releases_and_incidents_queue_one_message_each_across_restarts(
    postgres_handoff: Handoff, fresh_postgres_url: str
) -> None:
    an_afternoon(postgres_handoff)
    react(postgres_handoff, fresh_postgres_url)
    react(postgres_handoff, fresh_postgres_url)  # a restarted process starts from the saved position
    with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:  # a crash before the position was saved
        conn.execute("UPDATE policy_positions SET position = 0")
    react(postgres_handoff, fresh_postgres_url)
    queued = stored(postgres_handoff, GuardianMessageQueued)
    found = sorted((m.kind, m.child_id, tuple(m.guardians)) for m in queued)
    assert found == [
        ("child_released", "C1", ("G1", "G2")),
        ("guardian_arrived", "C1", ("G1", "G2")),
        ("incident_opened", "C2", ("G5",)),
    ]
    release = next(m for m in queued if m.kind == "child_released")
    assert release.facts["guardian_id"] == "G1" and release.about.startswith("ChildReleased:")
    assert next(m for m in queued if m.kind == "incident_opened").facts["incident_kind"] == "injury"


def test_a_gateway_outage_delays_messages_but_loses_none(
    postgres_handoff: Handoff, fresh_postgres_url: str, clock: Clock, gateway: Gateway
) -> None:
    h, url = postgres_handoff, fresh_postgres_url
    an_afternoon(h)
    react(h, url)
    project_outbox(h, url)
    read = ReadSide(url, EventLog(h.recorder, h.mapper), h.clock, [outbox.outbox])
    notifier = Notifier(h, read, WebhookAdapter(gateway.url, SECRET, timeout=2), url)
    try:
        assert notifier.deliver_due() == {"delivered": 0, "failed": 3, "skipped": 0}  # the gateway is down
        project_outbox(h, url)
        assert notifier.deliver_due() == {"delivered": 0, "failed": 0, "skipped": 0}  # next try not due yet

        clock.now += timedelta(minutes=35)  # 17:05: C2 may leave alone; the release does not wait for the gateway
        h.care.check_in(ctx(), "C2", "T1", None, None)
        started = time.monotonic()
        assert h.care.release(ctx(), "C2", None)["outcome"] == "recorded"
        assert time.monotonic() - started < 1.0
        react(h, url)
        project_outbox(h, url)
        assert notifier.deliver_due() == {"delivered": 0, "failed": 4, "skipped": 0}
        project_outbox(h, url)
        views = Views(h, read)
        failing = views.rows(ACTORS["duty_leader"], "read_messages", "S1", outbox.outbox, outbox.listing, None)
        assert (
            sorted((r["status"], r["attempts"], r["last_error"]) for r in failing["items"])
            == [("failing", 1, "connection refused")] + [("failing", 2, "connection refused")] * 3
        )
        with pytest.raises(ForbiddenError):
            views.rows(ACTORS["teacher"], "read_messages", "S1", outbox.outbox, outbox.listing, None)
        assert gateway.received == []

        gateway.up()
        clock.now += timedelta(seconds=11)
        assert notifier.deliver_due() == {"delivered": 4, "failed": 0, "skipped": 0}
        project_outbox(h, url)
        assert notifier.deliver_due() == {"delivered": 0, "failed": 0, "skipped": 0}
        delivered = views.rows(ACTORS["admin"], "read_messages", "S1", outbox.outbox, outbox.listing, None)
        assert {r["status"] for r in delivered["items"]} == {"delivered"}
    finally:
        read.close()

    queued = {m.message_id for m in stored(h, GuardianMessageQueued)}
    keys = [headers["Idempotency-Key"] for headers, _ in gateway.received]
    assert sorted(keys) == sorted(f"S1/{m}" for m in queued)  # each message exactly once
    for headers, body in gateway.received:
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Handoff-Signature"] == f"sha256={expected}"
        sent = json.loads(body)
        assert set(sent["text"]) == {"zh-CN", "en"} and sent["child_id"] in sent["text"]["en"]
    assert len(stored(h, GuardianMessageDeliveryFailed)) == 7
    assert sorted(d.attempts for d in stored(h, GuardianMessageDelivered)) == [2, 3, 3, 3]
    c1_release = next(m for m in stored(h, GuardianMessageQueued) if (m.kind, m.child_id) == ("child_released", "C1"))
    release = h.outbox.message_view(ACTORS["admin"], "S1", c1_release.message_id)
    assert release["status"] == "delivered" and "16:30" in release["text"]["zh-CN"]


def test_the_console_adapter_prints_references_and_wording(postgres_handoff: Handoff, fresh_postgres_url: str) -> None:
    h, url = postgres_handoff, fresh_postgres_url
    an_afternoon(h)
    react(h, url)
    project_outbox(h, url)
    printed = io.StringIO()
    read = ReadSide(url, EventLog(h.recorder, h.mapper), h.clock, [outbox.outbox])
    try:
        assert Notifier(h, read, ConsoleAdapter(printed), url).deliver_due()["delivered"] == 3
    finally:
        read.close()
    lines = [json.loads(line)["guardian_message"] for line in printed.getvalue().splitlines()]
    assert sorted(m["kind"] for m in lines) == ["child_released", "guardian_arrived", "incident_opened"]
    assert {m["school_id"] for m in lines} == {"S1"}
    assert {m["child_id"] for m in lines} == {"C1", "C2"}


def test_emergency_mode_tells_the_guardians_of_every_child_in_care_at_that_moment(
    postgres_handoff: Handoff, fresh_postgres_url: str, clock: Clock
) -> None:
    h, url = postgres_handoff, fresh_postgres_url
    h.care.check_in(ctx(), "C2", "T1", None, None)
    clock.now += timedelta(minutes=1)
    handed_to_guardian(h)  # C1 checked in, G1 at the gate, confirmed
    clock.now += timedelta(minutes=1)
    h.emergency.enter_emergency(ctx("duty_leader"), "GATE", "fire alarm")
    clock.now += timedelta(minutes=1)
    h.care.release(ctx(), "C1", "G1")  # released before the policy runs: it was in care when the mode began
    react(h, url)
    react(h, url)
    emergency = [m for m in stored(h, GuardianMessageQueued) if m.kind == "emergency"]
    assert sorted((m.child_id, tuple(m.guardians)) for m in emergency) == [("C1", ("G1", "G2")), ("C2", ("G5",))]
    text = h.outbox.message_text(h.outbox.guardian_message("S1", emergency[0].message_id))
    assert "GATE" in text["zh-CN"] and "emergency mode at 16:32" in text["en"]
