"""A small school and helpers shared by the service, API and integration tests."""

from __future__ import annotations

import struct
import threading
import time as clock_time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

import uvicorn

from aggregates.staff import Role
from service.application.context import Actor, CommandContext, system_actor
from service.application.handoff import Handoff
from service.application.personal_data import KeyStore
from service.http.server import server_config

SCHOOL = "S1"
OTHER_SCHOOL = "S2"
DISTRICT = "D1"
SECRET = "test-secret-key-for-handoff-tests"
TERM = "2026-27"
CODES = {"G1": "1234", "G2": "5678"}
# 16:30 in Shanghai on a Monday: after school, before the 17:00 self-release time.
AFTERNOON = datetime(2026, 11, 30, 8, 30, tzinfo=timezone.utc)


@dataclass
class Clock:
    """A server clock the tests can move."""

    now: datetime = field(default=AFTERNOON)

    def __call__(self) -> datetime:
        return self.now


ACTORS = {
    "teacher": Actor("t1", Role.TEACHER, SCHOOL, DISTRICT),
    "teacher2": Actor("t2", Role.TEACHER, SCHOOL, DISTRICT),
    "gate": Actor("g1", Role.GATE, SCHOOL, DISTRICT),
    "duty_leader": Actor("d1", Role.DUTY_LEADER, SCHOOL, DISTRICT),
    "admin": Actor("a1", Role.ADMIN, SCHOOL, DISTRICT),
    "regulator": Actor("r1", Role.REGULATOR, DISTRICT, DISTRICT),
    "other_teacher": Actor("t1", Role.TEACHER, OTHER_SCHOOL, DISTRICT),
}


def ctx(actor: str | Actor = "teacher", key: str | None = None, school: str = SCHOOL, **body: object) -> CommandContext:
    """A command context; the body only feeds the idempotency fingerprint."""
    who = ACTORS[actor] if isinstance(actor, str) else actor
    return CommandContext(
        actor=who,
        school_id=school,
        device_id="tablet-1",
        device_time=AFTERNOON,
        idempotency_key=key or uuid.uuid4().hex,
        operation="test",
        body=dict(body),
    )


def make_handoff(
    env: dict[str, str] | None = None, clock: Clock | None = None, keys: KeyStore | None = None
) -> Handoff:
    env = env or {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    return Handoff(env, secret_key=SECRET, clock=clock or Clock(), keys=keys)


def setup_school(handoff: Handoff, school: str = SCHOOL) -> None:
    """School S1 with term 2026-27, batches B1 (17:00) and B2 (17:30), places T1, T2, GATE; staff t1, t2, g1, d1, a1,
    and the principal h1 who cannot hold custody. C1 is enrolled with guardians G1 and G2; C2 is enrolled with G5 and
    may leave alone from 17:00; C3 has only applied, so is not enrolled."""
    system = lambda: ctx(system_actor(school), school=school)  # noqa: E731
    handoff.setup.register_school(system(), "Test School", DISTRICT, "Asia/Shanghai")
    for code, kind in (("T1", "temporary_class"), ("T2", "temporary_class"), ("GATE", "gate")):
        handoff.setup.add_place(system(), code, kind, code, code)
    for staff_id, role in (
        ("t1", Role.TEACHER),
        ("t2", Role.TEACHER),
        ("g1", Role.GATE),
        ("d1", Role.DUTY_LEADER),
        ("a1", Role.ADMIN),
        ("h1", Role.ADMIN),
    ):
        handoff.staff.register_staff(system(), staff_id, role, DISTRICT)
    handoff.setup.schedule_term(system(), TERM, date(2026, 9, 1), date(2027, 6, 30), 100)
    handoff.setup.add_release_batch(system(), "B1", "第一批", "First batch", time(17, 0))
    handoff.setup.add_release_batch(system(), "B2", "第二批", "Second batch", time(17, 30))
    for child in ("C1", "C2", "C3"):
        handoff.roster.add_child(system(), child, "3-1", 3)
    admin = Actor("a1", Role.ADMIN, school, DISTRICT)
    for guardian, code in CODES.items():
        handoff.guardian_list.authorise_guardian(ctx(admin, school=school), "C1", guardian, "parent", code)
    handoff.guardian_list.authorise_guardian(ctx(admin, school=school), "C2", "G5", "grandmother", "4444")
    enrol(handoff, admin, school, "C1", ["G1", "G2"], None)
    enrol(handoff, admin, school, "C2", ["G5"], time(17, 0))
    handoff.enrolments.apply_for_care(ctx(admin, school=school), "C3", TERM, "G9", ["mon"], "B2", False, [], "")


def enrol(handoff: Handoff, admin: Actor, school: str, child: str, guardians: list[str], alone: time | None) -> None:
    """The four steps and a signed agreement, for the whole term."""
    act = lambda: ctx(admin, school=school)  # noqa: E731
    days = ["mon", "tue", "wed", "thu", "fri"]
    handoff.enrolments.apply_for_care(act(), child, TERM, guardians[0], days, "B2", alone is not None, [], "")
    handoff.enrolments.review_by_class(act(), child, TERM, True, "")
    handoff.enrolments.review_by_school(act(), child, TERM, True, "")
    handoff.enrolments.arrange(act(), child, TERM, "T1")
    handoff.enrolments.sign_agreement(
        act(), child, TERM, guardians[0], guardians, alone, date(2026, 9, 1), date(2027, 6, 30)
    )


def handed_to_guardian(handoff: Handoff, child: str = "C1", guardian: str = "G1") -> None:
    """Check the child in with t1, register the guardian with the right code, and confirm both ways."""
    handoff.care.check_in(ctx(), child, "T1", None, None)
    handoff.care.register_arrival(ctx("gate"), child, guardian, "pickup_code", CODES[guardian])
    handoff.care.confirm(ctx(), child, guardian, True, True)


def serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Run the ASGI app on a free loopback port in a thread of its own; its URL once it listens."""
    server = uvicorn.Server(server_config(app, "127.0.0.1", 0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        clock_time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def png(rgb: tuple[int, int, int] = (200, 120, 40), size: int = 16, figure: bool = False) -> bytes:
    """A real PNG image of one colour (a browser shows it), written with the standard library; with a figure, a
    head-and-shoulders silhouette on it, as a stand-in for a portrait."""

    def pixel(x: int, y: int) -> bytes:
        head = (x - size / 2) ** 2 + (y - size * 0.38) ** 2 < (size * 0.2) ** 2
        shoulders = ((x - size / 2) / (size * 0.4)) ** 2 + ((y - size) / (size * 0.38)) ** 2 < 1
        return bytes(c // 3 for c in rgb) if figure and (head or shoulders) else bytes(rgb)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(size)) for y in range(size))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
