"""State as of an instant equals what the live views showed at that moment: during an afternoon on PostgreSQL the
occupancy view is read after every step (as a duty leader's screen would show it), then every recorded instant is
replayed from the event log alone and compared, child by child."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from projections import occupancy, occupancy_queries
from projections.catalog import ensure_catalog
from projections.log import EventLog
from projections.runner import Projector
from replay.state import custody_as_of
from service.application.handoff import Handoff
from tests.integration.test_read_models import DAY, at
from tests.support import ACTORS, SCHOOL, Clock, ctx, enrol

ZONE = "Asia/Shanghai"


def steps(h: Handoff) -> list[tuple[str, Any]]:
    """Checks-in, transfers, an arrival refused and one accepted, confirmations, releases, an absence, a late
    check-in after it, and a correction of a mistaken transfer."""
    return [
        ("16:30", lambda: h.care.check_in(ctx(), "C1", "T1", None, "h1")),
        ("16:31", lambda: h.care.mark_absent(ctx(), "C4", "sick")),
        ("16:32", lambda: h.care.check_in(ctx("teacher2"), "C2", "T2", None, None)),
        ("16:33", lambda: h.care.check_in(ctx(), "C5", "T1", None, None)),
        ("16:40", lambda: h.care.transfer(ctx(), "C1", "t2", "T2")),
        ("16:41", lambda: h.care.transfer(ctx(), "C5", "t2", "T2")),
        ("16:42", lambda: h.care.correct(ctx("duty_leader"), "C5", DAY, "moved the wrong child")),
        ("16:45", lambda: h.care.register_arrival(ctx("gate"), "C1", "X9", "id_document", None)),
        ("16:48", lambda: h.care.check_in(ctx(), "C4", "T1", None, None)),
        ("16:50", lambda: h.care.register_arrival(ctx("gate"), "C1", "G1", "pickup_code", "1234")),
        ("16:52", lambda: h.care.confirm(ctx("teacher2"), "C1", "G1", True, True)),
        ("16:55", lambda: h.care.release(ctx("teacher2"), "C1", "G1")),
        ("17:05", lambda: h.care.release(ctx("teacher2"), "C2", None)),
        ("17:40", lambda: h.care.register_arrival(ctx("gate"), "C4", "G4", "pickup_code", "4444")),
        ("17:42", lambda: h.care.confirm(ctx(), "C4", "G4", True, True)),
    ]


def shown(row: dict[str, Any]) -> tuple[Any, ...]:
    """What the duty leader sees of a child in the occupancy view (who has them, and at the gate, while in care)."""
    if row["status"] != "in_care":
        return (row["status"], None, False, False, row["released_to"])
    return (row["status"], row["custodian_id"], row["guardian_arrived"], row["confirmed"], row["released_to"])


def replayed(row: dict[str, Any]) -> tuple[Any, ...]:
    """The same, from the state replayed out of the log."""
    custodian = row["custodian_id"] if row["status"] == "in_care" else None
    arrived = bool(row["arrived_guardians"]) and row["status"] == "in_care"
    confirmed = row["confirmed_guardian_id"] is not None and row["status"] == "in_care"
    return (row["status"], custodian, arrived, confirmed, row["released_to"])


def test_state_as_of_every_instant_equals_what_the_views_showed(
    postgres_handoff: Handoff, fresh_postgres_url: str, clock: Clock
) -> None:
    h, url = postgres_handoff, fresh_postgres_url
    for child, guardian in (("C4", "G4"), ("C5", "G5")):
        h.roster.add_child(ctx("admin"), child, "3-2", 3)
        h.guardian_list.authorise_guardian(ctx("admin"), child, guardian, "parent", "4444")
        enrol(h, ACTORS["admin"], SCHOOL, child, [guardian], None)
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_catalog(conn)
    log = EventLog(h.recorder, h.mapper)
    projector = Projector(occupancy.occupancy, url, log, version=1)
    projector.prepare()
    tables = occupancy.occupancy.tables(1)
    seen: list[tuple[datetime, dict[str, tuple[Any, ...]]]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for hhmm, step in steps(h):
            clock.now = at(hhmm)
            step()
            projector.catch_up()
            rows = occupancy_queries.children(conn, tables, SCHOOL, DAY, limit=500)
            seen.append((clock.now, {r["child_id"]: shown(r) for r in rows if r["status"] != "expected"}))
    projector.close()

    assert len(seen) == 15 and seen[-1][1]["C1"][0] == "released" and seen[-1][1]["C4"][2] is True
    for instant, on_screen in seen:
        state = {row["child_id"]: replayed(row) for row in custody_as_of(log, SCHOOL, instant, ZONE)}
        state = {child: found for child, found in state.items() if found[0] != "expected"}
        assert state == on_screen, instant.isoformat()
