"""A OneRoster delta, resolved against what Handoff holds into the roster file that roster_sync applies: every child
the delta changes, whole (what the delta does not say is kept as it is), and the children it says left.

Who a delta touches: a student whose row, homeroom enrolment or demographics it carries; a student a guardian's own
row names; every child of a guardian it deletes (revoked); every child of a homeroom whose teacher it names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aggregates.roster import RosterEntry
from aggregates.roster import project as roster_project
from aggregates.roster_records import RosterRecords
from aggregates.staff import project as staff_project
from aggregates.staff import staff_stream_id
from service.application.oneroster_delta import Home, RosterDelta, StudentChange
from service.application.roster_files import RosterChild, RosterFile, RosterFileError, RosterGuardian
from service.application.roster_import import BadRosterFileError

if TYPE_CHECKING:
    from service.application.handoff import Handoff

UNKNOWN_AGENT = "agent {agent!r} is neither in this delta's users.csv nor a guardian of {child} in Handoff"
NO_ONE = (
    "{}: to be deleted, but neither a child on the roster nor anyone's guardian here (already removed, or known by"
    " an identifier the row does not give)"
)
UNKNOWN_CHILD = "student {child!r} is not on the roster: a delta adds a child with their user row and homeroom class"
NOT_NEWER = (
    "{file}:{line}: {sourced_id} not applied: its dateLastModified {modified} is not later than {before}, applied"
    " before"
)


def newer(delta: RosterDelta, records: RosterRecords) -> tuple[RosterDelta, tuple[str, ...]]:
    """The delta without its rows no newer than the same rows applied before (delivered late, or twice), and a line
    for each row left out."""
    stale = [(row, before) for row in delta.stamps if (before := records.applied_since(row.key, row.modified))]
    if not stale or delta.without is None:
        return delta, ()
    try:
        kept = delta.without(frozenset(row.key for row, _ in stale))
    except RosterFileError as error:
        problems = [{"file": p.file, "line": p.line, "problem": p.message} for p in error.problems]
        raise BadRosterFileError(count=len(problems), problems=problems) from None
    return kept, tuple(NOT_NEWER.format(**vars(row), before=before) for row, before in stale)


def resolve(
    app: Handoff, school_id: str, delta: RosterDelta, on_roster: set[str], people: Mapping[str, str]
) -> RosterFile:
    """The delta as a roster file of the children it changes; refused whole, with every problem, if it cannot be.
    `people`: Handoff's id for each person the records name by a sourcedId of their own (RosterRecords)."""
    resolver = _Resolver(app, school_id, delta, on_roster, people)
    left = tuple(sorted(resolver.removed & resolver.on_roster))
    children = [resolver.child(child_id) for child_id in sorted(resolver.touched() - set(left))]
    if resolver.problems:
        problems = [{"file": file, "line": line, "problem": text} for file, line, text in resolver.problems]
        raise BadRosterFileError(count=len(problems), problems=problems)
    unmatched = map(NO_ONE.format, sorted(set(delta.removed) - resolver.matched - resolver.staff_ids()))
    return RosterFile(school_id, tuple(children), delta.staff, (*delta.ignored, *unmatched), left=left)


class _Resolver:
    def __init__(
        self, app: Handoff, school_id: str, delta: RosterDelta, on_roster: set[str], people: Mapping[str, str]
    ) -> None:
        self.app, self.school_id, self.delta, self.on_roster = app, school_id, delta, on_roster
        self.people = {**people, **dict(delta.known_as)}
        self.entries = {child: app.roster_entry(school_id, child) for child in self.on_roster}
        self.by_source = {entry.source_id: child for child, entry in self.entries.items() if entry.source_id}
        self.changes = {self.own(change.child_id): change for change in delta.students}
        self.linked: dict[str, list[RosterGuardian]] = {}
        for child_id, guardian in delta.linked:
            self.linked.setdefault(self.own(child_id), []).append(guardian)
        self.removed = {self.own(person) for person in delta.removed} | set(delta.removed)
        self.matched = {person for person in delta.removed if self.own(person) in self.on_roster}
        self.teachers: dict[str, str] = dict(delta.class_teachers)
        self.problems: list[tuple[str, int, str]] = []

    def own(self, person: str) -> str:
        """A person's Handoff id, for one the delta names by their records id (sourcedId) only."""
        person = self.people.get(person, person)
        return person if person in self.on_roster else self.by_source.get(person, person)

    def touched(self) -> set[str]:
        found = set(self.changes) | set(self.linked)
        found |= {child for child, entry in self.entries.items() if entry.home_class in self.teachers}
        for child in self.on_roster if self.removed else ():
            if held := self.removed & set(self.app.guardians(self.school_id, child).authorisations):
                found.add(child)
                self.matched |= held | {person for person in self.delta.removed if self.own(person) in held}
        return found

    def staff_ids(self) -> set[str]:
        """Staff the delta deletes: they keep their tokens until an admin revokes them, as after a bulk import."""
        known = lambda person: self.app.load(staff_stream_id(self.school_id, person), staff_project)  # noqa: E731
        return {person for person in self.delta.removed if known(self.people.get(person, person))}

    def child(self, child_id: str) -> RosterChild:
        change = self.changes.get(child_id) or StudentChange(child_id, ("users.csv", 0))
        entry = self.app.load(RosterEntry.absent(self.school_id, child_id).id, roster_project)
        if entry is None and not (change.names and change.home and change.grade):
            self.problems.append((*change.where, UNKNOWN_CHILD.format(child=child_id)))
        entry = entry or RosterEntry.absent(self.school_id, child_id)
        held: dict[str, Any] = {}
        if entry.sealed and not entry.erased:
            held = self.app.personal.open(self.school_id, child_id, entry.sealed) or {}
        names = change.names or (held.get("given_name") or held.get("name") or "", held.get("family_name") or "")
        sex, born = change.demographics or (held.get("sex"), held.get("birth_date"))
        return RosterChild(
            child_id,
            *names,
            sex=sex,
            grade=change.grade or entry.grade,
            guardians=self.guardians(child_id, change),
            birth_date=born,
            source_id=change.source_id or entry.source_id,
            **self.home(entry, change.home, held),
        )

    def home(self, entry: RosterEntry, home: Home | None, held: dict[str, Any]) -> dict[str, Any]:
        """The homeroom the delta gives, or the one Handoff holds; its teacher as the delta names them, or as known."""
        if home is None:
            dates = tuple(day.isoformat() if day else None for day in (entry.starts_on, entry.ends_on))
            home = Home(entry.home_class, held.get("home_class_name") or "", entry.homeroom_teacher_id, *dates)
        elif home.homeroom_teacher_id == "":
            known = (e.homeroom_teacher_id for e in self.entries.values() if e.home_class == home.home_class)
            home = replace(home, homeroom_teacher_id=next((t for t in known if t), None))
        teacher = self.teachers.get(home.home_class, home.homeroom_teacher_id)
        return vars(home) | {"homeroom_teacher_id": teacher}

    def guardians(self, child_id: str, change: StudentChange) -> tuple[RosterGuardian, ...]:
        """The student row's agents (or the guardians held, untimed), those whose own rows name the child, less the
        deleted; a guardian named by id only must be one the child already has."""
        state = self.app.guardians(self.school_id, child_id)
        held = [g for g, a in state.authorisations.items() if a.valid_from is None and a.valid_until is None]
        listed: dict[str, RosterGuardian] = {}
        for named in change.agents if change.agents is not None else held:
            agent = named if isinstance(named, RosterGuardian) else self.own(named)
            if isinstance(agent, RosterGuardian):
                listed[agent.guardian_id] = agent
            elif agent in state.authorisations:
                listed[agent] = RosterGuardian(agent, "", "", "parent", None)  # already authorised: nothing to add
            else:
                self.problems.append((*change.where, UNKNOWN_AGENT.format(agent=agent, child=child_id)))
        for guardian in self.linked.get(child_id, []):
            listed.setdefault(guardian.guardian_id, guardian)
        return tuple(guardian for g, guardian in listed.items() if g not in self.removed)
