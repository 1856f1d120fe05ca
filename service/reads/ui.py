"""Reads for the gate tablet and the duty leader's board, for staff of the school only: the school card, finding a
child, one child's gate card with its guardians, children awaiting pickup, children on site over the day, and today's
open incidents.

Names are personal data: they are opened only for staff of the school (the roster's own rule, `read_child_day`)
and never logged."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from psycopg import Connection
from psycopg.rows import dict_row

from aggregates.base import DomainError
from aggregates.custody import WRONG_CODES_BEFORE_LOCK
from aggregates.incidents import KINDS
from aggregates.roster import CHILD_PHOTO
from aggregates.school import LATE_PICKUP_GRACE
from projections import occupancy
from projections.base import Tables
from service.application.context import Actor
from service.application.handoff import Handoff
from service.application.personal_data import ERASED
from service.application.views import custody_view
from service.reads.readside import ReadSide, ViewsNotReadyError

NEVER = datetime.min.replace(tzinfo=timezone.utc)

SEARCH_LIMIT = 20
"""At most this many children per search; the answer says when there were more (`more`)."""

ROSTER = """
SELECT DISTINCT ON (r.child_id) r.child_id, r.home_class, r.grade, e.temporary_class,
  coalesce(c.status, 'expected') AS status, c.place_code, c.custodian_id
FROM {roster} r
LEFT JOIN {enrolments} e ON e.school_id = r.school_id AND e.child_id = r.child_id AND NOT e.withdrawn
  AND %(day)s BETWEEN coalesce(e.starts_on, %(day)s) AND coalesce(e.ends_on, %(day)s)
LEFT JOIN {children} c ON c.school_id = r.school_id AND c.child_id = r.child_id AND c.service_day = %(day)s
WHERE r.school_id = %(school)s ORDER BY r.child_id, e.signed DESC NULLS LAST
"""

AWAITING = """
WITH enr AS (SELECT DISTINCT ON (child_id) child_id, temporary_class, release_batch FROM {enrolments}
  WHERE school_id = %(school)s AND signed AND NOT withdrawn AND %(day)s BETWEEN starts_on AND ends_on
  ORDER BY child_id, starts_on DESC)
SELECT c.child_id, r.home_class, e.temporary_class, c.place_code, c.custodian_id, c.guardian_arrived, c.confirmed,
  b.ends_at AS batch_ends_at,
  coalesce((%(now)s AT TIME ZONE s.time_zone) >= %(day)s + b.ends_at + %(grace)s, false) AS late
FROM {children} c
LEFT JOIN {roster} r ON r.school_id = c.school_id AND r.child_id = c.child_id
LEFT JOIN enr e ON e.child_id = c.child_id
LEFT JOIN {batches} b ON b.school_id = c.school_id AND b.batch_code = e.release_batch
JOIN {schools} s ON s.school_id = c.school_id
WHERE c.school_id = %(school)s AND c.service_day = %(day)s AND c.status = 'in_care'
ORDER BY late DESC, c.guardian_arrived DESC, b.ends_at NULLS LAST, c.child_id LIMIT 300
"""

MOVEMENTS = """
SELECT checked_in_at, released_at FROM {children}
WHERE school_id = %(school)s AND service_day = %(day)s AND checked_in_at IS NOT NULL
"""


def _folded(text: str) -> str:
    """Text as a search compares it: full-width brackets and digits as half-width ones (NFKC), case ignored."""
    return unicodedata.normalize("NFKC", text).casefold()


def _rows(statement: str) -> Any:
    def read(conn: Connection[Any], t: Tables, **params: Any) -> list[dict[str, Any]]:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(t.format(statement), params)
            return cur.fetchall()

    return read


class UiReads:
    """Reads for the gate and the board; each checks the caller's role and school first."""

    def __init__(self, handoff: Handoff, read: ReadSide | None) -> None:
        self.handoff, self.read = handoff, read

    def _views(self) -> ReadSide:
        if self.read is None:
            raise ViewsNotReadyError
        return self.read

    def _today(self, school_id: str) -> date:
        return self.handoff.school(school_id).service_day(self.handoff.clock())

    def name_of(self, school_id: str, child_id: str) -> str | None:
        """The child's name from the sealed roster entry; None if none was given."""
        return self._sealed(school_id, child_id).get("name")

    def names_of(self, school_id: str, child_ids: Iterable[str]) -> dict[str, str | None]:
        """The names of many children of one school (see `_sealed_many`)."""
        return {child_id: sealed.get("name") for child_id, sealed in self._sealed_many(school_id, child_ids).items()}

    def _sealed(self, school_id: str, child_id: str) -> dict[str, Any]:
        """What the roster entry seals about the child (name, home class title...); only the erasure mark if erased."""
        return self._sealed_many(school_id, [child_id])[child_id]

    def _sealed_many(self, school_id: str, child_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """`_sealed` for many children: their roster entries from this process's cache wherever their streams did
        not change (one read of the log's changes), and their keys in one query, not two reads per child."""
        with self.handoff.states.fresh():
            entries = {child_id: self.handoff.roster_entry(school_id, child_id) for child_id in child_ids}
        tokens = [(c, e.sealed) for c, e in entries.items() if e.sealed and not e.erased]
        opened = dict(zip([c for c, _ in tokens], self.handoff.personal.open_many(school_id, tokens), strict=True))
        return {c: {"name": ERASED} if e.erased else opened.get(c) or {} for c, e in entries.items()}

    def school_card(self, actor: Actor, school_id: str) -> dict[str, Any]:
        """What every page needs first: the school's places, time zone, today's mode, and who is signed in."""
        actor.require("read_occupancy", school_id)
        school = self.handoff.school(school_id)
        now = self.handoff.clock()
        day = school.service_day(now)
        mode = self.handoff.service_day_state(school_id, day)
        return {
            "school_id": school_id,
            "name": school.name,
            "time_zone": school.time_zone,
            "service_day": day,
            "server_time": now,
            "places": [vars(p) for p in sorted(school.places.values(), key=lambda p: p.code)],
            "adults": sorted(
                {
                    *mode.duty_leaders,
                    *self._class_teachers(school, day),
                    *self.handoff.dismissal.custodians_of(school_id),
                }
            ),
            "emergency": mode.emergency,
            "reunification_point": mode.reunification_point,
            "staff_id": actor.staff_id,
            "role": actor.role.value,
            "incident_kinds": list(KINDS),
        }

    def _class_teachers(self, school: Any, day: date) -> list[str]:
        try:
            term = school.term_on(day)
        except DomainError:
            return []
        codes = [p.code for p in school.places.values() if p.kind == "temporary_class"]
        found = [self.handoff.temporary_class(school.school_id, term.term_id, code).teacher_id for code in codes]
        return [teacher for teacher in found if teacher]

    def find_children(self, actor: Actor, school_id: str, q: str) -> dict[str, Any]:
        """Children whose number, home class (code or title), temporary class or name matches, with today's status."""
        actor.require("read_child_day", school_id)
        wanted = _folded(q.strip())
        if not wanted:
            return {"items": []}
        params = {"school": school_id, "day": self._today(school_id)}
        rows = self._views().query(occupancy.occupancy, _rows(ROSTER), **params)
        every = self._sealed_many(school_id, [row["child_id"] for row in rows])
        found = []
        for row in rows:
            sealed = every[row["child_id"]]
            name, title = sealed.get("name"), sealed.get("home_class_name") or None
            keys = (row["child_id"], row["home_class"], row["temporary_class"], name, title)
            if any(wanted in _folded(key) for key in keys if key):
                found.append({**row, "name": name, "home_class_name": title})
            if len(found) > SEARCH_LIMIT:
                break
        return {"items": found[:SEARCH_LIMIT], "more": len(found) > SEARCH_LIMIT}

    def gate_card(self, actor: Actor, school_id: str, child_id: str) -> dict[str, Any]:
        """One child at the gate: today's custody, who may collect them today, and whether they may leave alone."""
        actor.require("read_child_day", school_id)
        return self.card_of(school_id, child_id, self._today(school_id), named=True)

    def card_of(self, school_id: str, child_id: str, day: date, named: bool) -> dict[str, Any]:
        """The gate card; without names (None) for what a tablet keeps on the device."""
        entry = self.handoff.roster_entry(school_id, child_id)
        guardians = self.handoff.guardians(school_id, child_id)
        cards = []
        for a in sorted(guardians.authorisations.values(), key=lambda a: a.guardian_id):
            opened = self.handoff.personal.open(school_id, child_id, a.sealed) if a.sealed and named else None
            cards.append(
                {
                    "guardian_id": a.guardian_id,
                    "relation": a.relation,
                    "name": (opened or {}).get("name"),
                    "authorised_today": guardians.is_authorised(a.guardian_id, day),
                    "has_photo": a.photo_ref is not None or a.guardian_id in entry.photos,
                }
            )
        alone = guardians.self_release_not_before
        state = self.handoff.custody(school_id, child_id, day)
        return {
            "child_id": child_id,
            "name": self.name_of(school_id, child_id) if named else None,
            "has_photo": CHILD_PHOTO in entry.photos,
            "home_class": entry.home_class,
            "grade": entry.grade,
            "custody": custody_view(state),
            "temporary_class": self._temporary_class(school_id, child_id, day),
            "pickup_code_attempts_left": 0 if state.code_entry_locked else WRONG_CODES_BEFORE_LOCK - state.wrong_codes,
            "guardians": cards,
            "self_release_not_before": alone.isoformat(timespec="minutes") if alone else None,
        }

    def _temporary_class(self, school_id: str, child_id: str, day: date) -> str | None:
        """The child's temporary class this term, where a check-in normally takes them; None if not arranged."""
        try:
            term = self.handoff.school(school_id).term_on(day)
        except DomainError:
            return None
        return self.handoff.enrolment(school_id, child_id, term.term_id).temporary_class

    def awaiting_pickup(self, actor: Actor, school_id: str) -> dict[str, Any]:
        """Every child still in care today, late ones first, then those whose guardian is at the gate."""
        actor.require("read_occupancy", school_id)
        day = self._today(school_id)
        params = {"school": school_id, "day": day, "now": self.handoff.clock(), "grace": LATE_PICKUP_GRACE}
        rows = self._views().query(occupancy.occupancy, _rows(AWAITING), **params)  # late: School.is_late_pickup
        names = self.names_of(school_id, [r["child_id"] for r in rows])
        return {"service_day": day, "items": [{**r, "name": names[r["child_id"]]} for r in rows]}

    def on_site_series(self, actor: Actor, school_id: str) -> dict[str, Any]:
        """How many children were on site at every change today, from noon to the end of the last batch (or now)."""
        actor.require("read_occupancy", school_id)
        school = self.handoff.school(school_id)
        now = self.handoff.clock()
        day = school.service_day(now)
        rows = self._views().query(occupancy.occupancy, _rows(MOVEMENTS), school=school_id, day=day)
        changes = sorted(
            [(r["checked_in_at"], 1) for r in rows] + [(r["released_at"], -1) for r in rows if r["released_at"]]
        )
        latest = max([school.service_ends_at, *(b.ends_at for b in school.batches.values())])
        noon = datetime.combine(day, time(12, 0), tzinfo=school.zone)
        starts = min([noon, *(at for at, _ in changes[:1])])
        ends = max(datetime.combine(day, latest, tzinfo=school.zone) + timedelta(minutes=30), now)
        counted, count = {starts: 0}, 0
        for at, step in changes:  # one point per instant, with the count after every change at that instant
            count += step
            counted[at] = count
        points = [{"at": at, "on_site": n} for at, n in counted.items()]
        points.append({"at": max(now, points[-1]["at"]), "on_site": count})
        return {"service_day": day, "starts": starts, "ends": ends, "points": points}

    def open_incidents(self, actor: Actor, school_id: str) -> dict[str, Any]:
        """Today's incidents still open: missing children first (urgent, told apart on the board), then newest
        first; with what opened each, so that the board says it in its own language."""
        day = self._today(school_id)
        incidents = self.handoff.incidents.incidents_on(actor, school_id, day)
        still_open = [found for found in incidents if found["status"] == "open"]
        still_open.sort(key=lambda found: found["opened_at"] or NEVER, reverse=True)  # an open one has its time
        items = [
            {
                **{key: found[key] for key in ("incident_id", "kind", "summary", "children", "opened_at")},
                "origin": incident_origin(found["source"]),
                "attempts": [attempt["reason_code"] for attempt in found["attempts"]],
                "urgent": found["kind"] == "missing_child",
            }
            for found in still_open
        ]
        items.sort(key=lambda item: not item["urgent"])
        return {"service_day": day, "items": items}


ORIGINS = {"ReleaseRefused:": "refusal", "HeadcountRecorded:": "headcount", "sweep:": "late_sweep"}


def incident_origin(source: str | None) -> str:
    """What opened an incident: a policy (refusal, headcount, late sweep), the gate guard's limit, or staff."""
    if source and source.startswith("gate-limit-"):
        return "gate_limit"
    return next((origin for prefix, origin in ORIGINS.items() if (source or "").startswith(prefix)), "staff")
