"""Importing a roster file again applies the school's records as they are now: each difference from what Handoff holds
becomes events, and a line in the answer for the admin. A dry run answers the same lines and records nothing.

What a sync changes: a child new to the file is added, a child gone from it left the school (no longer expected: their
enrolments are withdrawn), a changed home class, grade, homeroom teacher or name is corrected (sealed); a guardian new
to the file is authorised (no pickup code until an admin sets one), a guardian gone from it has their authorisation
revoked, refused at the gate from the next request on. Authorisations an admin limited in time (a neighbour for a
week) are the school's own arrangements, not the records', and stay. Teachers and administrators new to the file
become staff; staff gone from it keep their tokens until an admin revokes them. A OneRoster delta is first resolved
into the children it changes and those it says left (roster_delta); a child it does not name is left alone."""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import reduce
from typing import Any

from aggregates import roster_records, staff
from aggregates.base import EventMeta
from aggregates.enrolment import Stage
from aggregates.guardians import Guardians
from aggregates.guardians import evolve as guardian_evolve
from aggregates.roster import Dates, RosterEntry
from aggregates.roster import project as roster_project
from aggregates.roster_records import RosterRecords, roster_records_id
from aggregates.school import School
from aggregates.staff import Role, StaffMember
from aggregates.term_applicants import evolve as term_evolve
from service.application.area import Area
from service.application.oneroster_delta import RosterDelta
from service.application.roster_delta import newer, resolve
from service.application.roster_files import RosterChild, RosterFile, RosterGuardian, RosterStaff

REMOVED = "no longer in the school's records (roster sync)"
LEFT = "left the school, by its records (roster sync)"


def dates(child: RosterChild) -> Dates:
    """The first and last day the school's records give for the child's homeroom enrolment."""
    return (_day(child.starts_on), _day(child.ends_on))


def _day(written: str | None) -> date | None:
    return date.fromisoformat(written) if written else None


def personal(child: RosterChild) -> dict[str, Any]:
    """What is sealed about a child: the name (family name first, as written in Chinese), its parts, sex, birth date,
    and the home class's name in the school's records (it names the child's class, so it goes with the child)."""
    name = {"name": f"{child.family_name}{child.given_name}", "given_name": child.given_name}
    details = {"sex": child.sex, "birth_date": child.birth_date, "home_class_name": child.home_class_name}
    return name | {"family_name": child.family_name} | details


class Changes:
    """The lines an admin reads, one per change, and their counts by kind."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.counts: Counter[str] = Counter()

    def add(self, kind: str, line: str) -> None:
        self.lines.append(line)
        self.counts[kind] += 1


class RosterSync(Area):
    """The differences between a roster file and the roster, applied as events."""

    def sync_roster(self, ctx: Any, file: RosterFile | RosterDelta, dry_run: bool = False) -> dict[str, Any]:
        """Apply a roster file or a OneRoster delta (one transaction), or with dry_run only say what it would change."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            sch, recorded, changes = self.app.school(ctx.school_id), [], Changes()
            partial = isinstance(file, RosterFile) and not file.whole  # e.g. a simple CSV: it removes no one
            on_roster = set() if partial else self.roster_children(ctx.school_id)
            records = self.app.load(roster_records_id(ctx.school_id), roster_records.project)
            records = records or RosterRecords.of(ctx.school_id)
            delta, skipped = newer(file, records) if isinstance(file, RosterDelta) else (file, ())
            if isinstance(delta, RosterFile):
                roster = delta
            else:
                roster = resolve(self.app, ctx.school_id, delta, on_roster, records.people)
            for person in roster.staff:
                recorded += self._sync_staff(meta, sch, person, changes)
            for child in roster.children:
                recorded += self._sync_child(meta, child, changes, dry_run)
            gone = set(roster.left)
            if roster.whole:
                gone = on_roster - {child.child_id for child in roster.children}
            recorded += self._children_left(meta, sch, sorted(gone), changes)
            recorded += records.apply(meta, {row.key: row.modified for row in delta.stamps}, dict(delta.known_as))
            counts = {kind: changes.counts[kind] for kind in KINDS}
            lines = {"changes": changes.lines, "ignored": list(roster.ignored), "skipped": list(skipped)}
            return recorded, counts | lines | {"dry_run": dry_run}

        if not dry_run:
            return self.app.command(ctx, "import_roster", decided)
        ctx.actor.require("import_roster", ctx.school_id)
        return {**decided(ctx.meta(self.app.clock()))[1], "replayed": False}

    def roster_children(self, school_id: str) -> set[str]:
        """The children on the school's roster now (neither left nor erased), found through the index."""
        found = self.app.index.roster_child_ids(school_id)
        return {child for child in found if self.app.roster_entry(school_id, child).on_roster}

    def _sync_staff(self, meta: EventMeta, sch: School, person: RosterStaff, changes: Changes) -> list:
        if self.app.load(staff.staff_stream_id(sch.school_id, person.staff_id), staff.project) is not None:
            return []
        changes.add("staff_added", f"{person.staff_id}: staff member added as {person.role}")
        member = StaffMember.unregistered(sch.school_id, person.staff_id)
        return member.register(meta, Role(person.role), sch.district_id)

    def _sync_child(self, meta: EventMeta, child: RosterChild, changes: Changes, dry_run: bool) -> list:
        seal = (lambda *_: "") if dry_run else self.app.personal.seal  # a dry run leaves even the key store alone
        school_id, home = meta.school_id, (child.home_class, child.grade, child.homeroom_teacher_id)
        found = self.app.load(RosterEntry.absent(school_id, child.child_id).id, roster_project)
        if found is None:
            changes.add("children_added", f"{child.child_id}: added to the roster")
            sealed = seal(school_id, child.child_id, personal(child))
            entry = RosterEntry.absent(school_id, child.child_id)
            events = entry.add(meta, *home, sealed, dates(child), child.source_id)
        else:
            events = self._corrected(meta, found, child, changes, seal)
        events += self._sync_guardians(meta, self.app.guardians(school_id, child.child_id), child, changes, seal)
        if not events:
            changes.counts["children_unchanged"] += 1
        return events

    def _corrected(self, meta: EventMeta, entry: RosterEntry, child: RosterChild, changes: Changes, seal: Any) -> list:
        home = (child.home_class, child.grade, child.homeroom_teacher_id)
        opened = (self.app.personal.open(meta.school_id, child.child_id, entry.sealed) if entry.sealed else None) or {}
        now = {k: v for k, v in personal(child).items() if v}
        before = {k: v for k, v in opened.items() if v}
        retitled = now.pop("home_class_name", None) != before.pop("home_class_name", None)
        renamed = now != before
        moved = home != (entry.home_class, entry.grade, entry.homeroom_teacher_id) or retitled
        dated = dates(child) != (entry.starts_on, entry.ends_on)
        if entry.erased or not (renamed or moved or dated or entry.left):
            return []  # a records id alone is no change: it is kept with the next one
        if entry.left:
            changes.add("children_returned", f"{child.child_id}: back on the roster")
        if moved:
            line = f"{child.child_id}: home class {child.home_class}, grade {child.grade}, homeroom teacher "
            changes.add("children_moved", line + str(child.homeroom_teacher_id or "none"))
        if renamed:
            changes.add("children_corrected", f"{child.child_id}: name or personal details corrected (sealed)")
        if dated:
            changes.add("children_dates_changed", f"{child.child_id}: {span(child)}")
        sealed = seal(meta.school_id, child.child_id, personal(child)) if renamed or retitled else entry.sealed
        return entry.change(meta, *home, sealed, dates(child), child.source_id or entry.source_id)

    def _sync_guardians(
        self, meta: EventMeta, state: Guardians, child: RosterChild, changes: Changes, seal: Any
    ) -> list:
        events: list[Any] = []
        listed = {guardian.guardian_id: guardian for guardian in child.guardians}
        for guardian_id, granted in sorted(state.authorisations.items()):
            if guardian_id not in listed and granted.valid_from is None and granted.valid_until is None:
                changes.add("guardians_revoked", f"{child.child_id}: guardian {guardian_id} revoked ({REMOVED})")
                events += state.revoke(meta, guardian_id, REMOVED)
                state = reduce(guardian_evolve, events[-1:], state)
        for guardian in listed.values():
            if guardian.guardian_id in state.authorisations or state.is_flagged(guardian.guardian_id):
                continue
            line = (
                f"{child.child_id}: guardian {guardian.guardian_id} authorised (no pickup code until an admin sets one)"
            )
            changes.add("guardians_added", line)
            events += authorise(meta, state, child.child_id, guardian, seal)
            state = reduce(guardian_evolve, events[-1:], state)
        return events

    def _children_left(self, meta: EventMeta, sch: School, children: list[str], changes: Changes) -> list:
        """Off the roster, and every enrolment withdrawn (its place in the term given up): no longer expected."""
        events: list[Any] = []
        for term_id in sorted(sch.terms):
            applicants = self.app.term_applicants(sch.school_id, term_id)
            for child_id in children:
                state = self.app.enrolment(sch.school_id, child_id, term_id)
                if state.stage not in (Stage.NOT_APPLIED, Stage.WITHDRAWN):
                    withdrawn = [*state.withdraw(meta, LEFT), *applicants.give_up_place(meta, child_id)]
                    applicants = reduce(term_evolve, withdrawn[1:], applicants)
                    events += withdrawn
        for child_id in children:
            changes.add("children_left", f"{child_id}: left the school, no longer expected")
            events += self.app.roster_entry(sch.school_id, child_id).leave(meta, LEFT)
        return events


KINDS = (
    "children_added",
    "children_unchanged",
    "children_moved",
    "children_corrected",
    "children_left",
    "children_returned",
    "children_dates_changed",
    "guardians_added",
    "guardians_revoked",
    "staff_added",
)


def span(child: RosterChild) -> str:
    """The dates as an admin reads them."""
    since = f" from {child.starts_on}" if child.starts_on else ""
    until = f" until {child.ends_on}" if child.ends_on else ""
    return "in the school's records" + (since + until or " with no dates")


def authorise(meta: EventMeta, state: Guardians, child_id: str, guardian: RosterGuardian, seal: Any) -> list:
    """Imported guardians have no pickup code yet: they are checked by identity document until given one."""
    name = f"{guardian.family_name}{guardian.given_name}"
    sealed = seal(meta.school_id, child_id, {"name": name, "phone": guardian.phone})
    return state.authorise(meta, guardian.guardian_id, guardian.relation, "", None, None, None, sealed)
