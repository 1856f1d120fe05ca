"""Reading a OneRoster 1.1 CSV bundle (a folder, or a zip with the files at its root or in one folder of it) into a
roster file: checked against the specification's tables first, then against what Handoff needs. Pure.

A bulk bundle is the school's whole roster. A bundle whose manifest gives any file Handoff reads as `delta` holds only
the rows that changed (oneroster_delta reads it): its files may be delta, bulk or absent, and no row is required."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from service.application import oneroster
from service.application.oneroster import split
from service.application.oneroster_delta import RosterDelta, known_as, read_delta, stamps
from service.application.roster_files import (
    ID,
    ID_RULE,
    PHONE,
    RELATIONS,
    RosterChild,
    RosterFile,
    RosterFileError,
    RosterGuardian,
    RosterStaff,
    RowCheck,
    Rows,
    _parse,
    _Problems,
    check_name,
)

GRADES = {f"{n:02d}": n for n in range(1, 13)}
ONEROSTER_SEX = {"female": "female", "male": "male", "other": None, "unspecified": None, "": None}
STAFF_ROLES = {"teacher": "teacher", "administrator": "admin"}
MANIFEST, USERS = ("propertyName value", ""), "users.csv"
UNPACKED_LIMIT = 64 << 20  # far above any school's roster; a zip that unpacks to more is refused unread
NAMES = ("givenName", "familyName", "middleName")
IGNORED = (
    "aide and proctor users: Handoff has no such role; an admin registers them as staff by hand if they supervise",
    "scheduled classes: the after-school timetable is planned in Handoff (sessions, temporary classes, clubs)",
    "passwords, usernames, userIds and emails: staff sign in with Handoff's own tokens",
    "race, ethnicity and place of birth (demographics): not needed to look after a child, so not kept (PIPL)",
    "gradebook and resource files: marks and learning materials are not Handoff's business",
)


def read_oneroster(path: Path) -> RosterFile | RosterDelta:
    """A OneRoster 1.1 CSV bundle: a folder, or a .zip with the files at its root or in one folder."""
    bundle = _Bundle(Path(path), problems := _Problems())
    roster: RosterFile | RosterDelta | None = None
    if not problems and bundle.load():
        ignored = (*IGNORED, *bundle.unread())
        if bundle.delta:
            roster = read_delta(bundle, ignored)
        else:
            found = (bundle.school() or "", bundle.children(), bundle.staff(), ignored)
            roster = RosterFile(*found, whole=True, stamps=stamps(bundle), known_as=known_as(bundle))
    if problems or roster is None:
        raise RosterFileError(problems)
    return roster


def _unzip(path: Path, problems: _Problems) -> dict[str, bytes]:
    """The CSV files of the folder that holds manifest.csv (the zip's root, or one folder inside it)."""
    with zipfile.ZipFile(path) as bundle:
        csvs = [i for i in bundle.infolist() if i.filename.endswith(".csv") and not i.is_dir()]
        homes = {str(PurePosixPath(i.filename).parent) for i in csvs if i.filename.split("/")[-1] == "manifest.csv"}
        if len(homes) > 1:
            problems.add(path.name, 0, "manifest.csv is in several folders: " + ", ".join(sorted(homes)))
            return {}
        home = homes.pop() if homes else "."
        inside = [i for i in csvs if str(PurePosixPath(i.filename).parent) == home]
        if sum(i.file_size for i in inside) > UNPACKED_LIMIT:
            problems.add(path.name, 0, f"the files unpack to more than {UNPACKED_LIMIT >> 20} MiB")
            return {}
        return {PurePosixPath(i.filename).name: bundle.read(i) for i in inside}


class _Bundle:
    """A OneRoster bundle being read: its files, its tables once loaded, and the problems found so far."""

    def __init__(self, path: Path, problems: _Problems) -> None:
        self.problems = problems
        self.tables: dict[str, Rows] = {}
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, str] = {}
        self.delta = False
        try:
            if path.is_dir():
                self.files = {file.name: file.read_bytes() for file in path.iterdir() if file.suffix == ".csv"}
            else:
                self.files = _unzip(path, problems)
        except zipfile.BadZipFile as error:
            problems.add(path.name, 0, f"not a folder or a zip file: {error}")

    def load(self) -> bool:
        """Checks the manifest and parses the tables; False when structural problems stop the checks."""
        if (manifest := _parse("manifest.csv", self.files.get("manifest.csv", b""), MANIFEST, self.problems)) is None:
            return False
        self.modes = modes = self.check_manifest(manifest)
        unreadable = False
        for table in oneroster.READ:
            if modes.get(table) in ("bulk", "delta") and f"{table}.csv" in self.files:
                spec, delta = ("sourcedId", " ".join(oneroster.columns(table)[1:])), modes[table] == "delta"
                check, data = self.row_check(table, delta), self.files[f"{table}.csv"]
                rows = _parse(f"{table}.csv", data, spec, self.problems, check, deleted=delta)
                if rows is None:
                    unreadable = True
                else:
                    self.tables[table] = rows
        if unreadable:
            return False
        self.check_references()
        return self.delta or all(table in self.tables for table in oneroster.NEEDED)

    @staticmethod
    def row_check(table: str, delta: bool) -> RowCheck:
        """The specification's checks of a row, and Handoff's limit on names."""
        return lambda row: (
            oneroster.check_row(table, row, delta)
            + [f"{name} {why}" for name in NAMES if (why := check_name(row.get(name, "")))]
        )

    def check_manifest(self, manifest: Rows) -> dict[str, str]:
        """Every property the specification requires, with an allowed value; returns each file's mode."""
        expected: dict[str, tuple[str, ...]] = {"manifest.version": ("1.0",), "oneroster.version": ("1.1",)}
        expected |= {f"file.{file}": oneroster.MODES for file in oneroster.FILES}
        for key, allowed in expected.items():
            line, row = manifest.get(key, (0, {}))
            if (value := row.get("value", "")) not in allowed:
                self.problems.add("manifest.csv", line, f"{key} is {value!r}; expected {' or '.join(allowed)}")
        modes = {key[5:]: row["value"] for key, (_, row) in manifest.items() if key.startswith("file.")}
        self.delta = any(modes.get(table) == "delta" for table in oneroster.READ)
        for table in () if self.delta else oneroster.NEEDED:  # a bulk bundle is the whole roster
            if modes.get(table) != "bulk":
                line = manifest.get(f"file.{table}", (0, {}))[0]
                self.problems.add("manifest.csv", line, f"file.{table} is {modes.get(table)!r}; expected bulk")
        for file, mode in modes.items():
            if mode in ("bulk", "delta") and f"{file}.csv" not in self.files:
                line = manifest[f"file.{file}"][0]
                self.problems.add("manifest.csv", line, f"file.{file} is {mode} but {file}.csv is missing")
        return modes

    def check_references(self) -> None:
        """Every reference names a row of the file it points into, when the bundle holds that file whole (a delta
        file holds only the rows that changed)."""
        for table, references in oneroster.REFERENCES.items():
            for line, row in (self.tables.get(table) or {}).values():
                for column, target in references.items():
                    if (known := self.tables.get(target)) is None or self.modes.get(target) != "bulk":
                        continue
                    if unknown := [ref for ref in split(row.get(column, "")) if ref not in known]:
                        message = f"{column} {unknown[0]!r} unknown"
                        if oneroster.kind(table, column) == "list":
                            message = f"{column} unknown: " + ", ".join(unknown)
                        self.problems.add(f"{table}.csv", line, message)

    def unread(self) -> tuple[str, ...]:
        """What this bundle holds that Handoff does not read: files, and columns outside the specification's tables
        (an exporting system's metadata.* extensions)."""
        files = sorted(set(self.files) - {"manifest.csv", *(f"{table}.csv" for table in self.tables)}, key=str.lower)
        found = [f"{', '.join(files)}: in the bundle, not read"] if files else []
        for table, rows in self.tables.items():
            extra = [
                column for column in next(iter(rows.values()), (0, {}))[1] if column not in oneroster.columns(table)
            ]
            if extra:
                why = "not read (the exporting system's own, not OneRoster's)"
                found.append(f"{table}.csv columns {', '.join(extra)}: {why}")
        return tuple(found)

    def external_id(self, file: str, line: int, row: dict[str, str]) -> str:
        value = row.get("identifier") or row["sourcedId"]
        self.problems.require(bool(ID.match(value)), file, line, f"id {value!r} is not usable: {ID_RULE}")
        return value

    def school(self) -> str | None:
        """The one school org's id; None when a delta changes no school org."""
        rows = self.tables.get("orgs", {}).values()
        schools = [(line, row) for line, row in rows if row["type"] == "school" and row.get("status") != "tobedeleted"]
        if self.delta and not schools:
            return None
        line = schools[1][0] if len(schools) > 1 else 0
        self.problems.require(len(schools) == 1, "orgs.csv", line, f"{len(schools)} orgs of type school; expected 1")
        return self.external_id("orgs.csv", *schools[0]) if len(schools) == 1 else ""

    def homerooms(self) -> tuple[dict[str, list[tuple[dict, dict]]], dict[str, str]]:
        """Student sourcedId -> (homeroom class, enrolment); homeroom class -> its teacher's id (primary first)."""
        classes, users = self.tables["classes"], self.tables["users"]
        rooms: dict[str, list[tuple[dict, dict]]] = {}
        primary: dict[str, str] = {}
        other: dict[str, str] = {}
        for _, row in self.tables["enrollments"].values():
            room = classes.get(row["classSourcedId"], (0, {}))[1]
            if room.get("classType") != "homeroom" or row["userSourcedId"] not in users:
                continue
            if row["role"] == "student":
                rooms.setdefault(row["userSourcedId"], []).append((room, row))
            elif row["role"] == "teacher":
                (primary if row["primary"] == "true" else other).setdefault(room["sourcedId"], row["userSourcedId"])
        return rooms, {room: self.external_id(USERS, *users[user]) for room, user in (other | primary).items()}

    def children(self) -> tuple[RosterChild, ...]:
        users = self.tables["users"]
        self.first_lines: dict[str, int] = {}
        self.rooms, self.teachers = self.homerooms()
        self.guardians = {key: self.guardian(*entry) for key, entry in users.items() if entry[1]["role"] in RELATIONS}
        return tuple(self.child(key) for key, (_, row) in users.items() if row["role"] == "student")

    def child(self, key: str) -> RosterChild:
        (line, row), rooms, need = self.tables["users"][key], self.rooms.get(key, []), self.problems.require
        sex_line, demographic = self.tables.get("demographics", {}).get(key, (0, {}))
        grades, sex, agents = split(row["grades"]), demographic.get("sex", ""), split(row["agentSourcedIds"])
        child_id = self.external_id(USERS, line, row)
        first = self.first_lines.setdefault(child_id, line)
        need(first == line, USERS, line, f"duplicate student identifier {child_id!r} (first on line {first})")
        need(len(rooms) == 1, USERS, line, f"student is in {len(rooms)} homeroom classes; expected exactly 1")
        need(len(grades) == 1 and grades[0] in GRADES, USERS, line, f"grades {row['grades']!r}: expected one of 01..12")
        for agent in agents:
            role = self.tables["users"].get(agent, (0, {"role": "parent"}))[1]["role"]
            message = f"agent {agent!r} has role {role!r}: expected parent, guardian or relative"
            need(role in RELATIONS, USERS, line, message)
        room, enrolment = rooms[0] if len(rooms) == 1 else ({}, {})
        names = (child_id, row["givenName"], row["familyName"], ONEROSTER_SEX.get(sex))
        home = (room.get("classCode") or room.get("title", ""), GRADES.get(grades[0], 0) if grades else 0)
        guardians = tuple(self.guardians[agent] for agent in agents if agent in self.guardians)
        teacher = self.teachers.get(room.get("sourcedId", ""))
        born, dates = demographic.get("birthDate") or None, (enrolment.get("beginDate"), enrolment.get("endDate"))
        found = (*home, teacher, guardians, room.get("title", ""), born, *(d or None for d in dates), row["sourcedId"])
        return RosterChild(*names, *found)

    def guardian(self, line: int, row: dict[str, str]) -> RosterGuardian:
        phone = row["phone"] or row["sms"] or None
        self.problems.require(bool(PHONE.match(phone or "")), USERS, line, f"phone {phone!r} is not a phone number")
        names = (self.external_id(USERS, line, row), row["givenName"], row["familyName"])
        return RosterGuardian(*names, RELATIONS[row["role"]], phone)

    def staff(self) -> tuple[RosterStaff, ...]:
        """Teachers and administrators, who become staff members with the teacher and admin roles."""
        users = self.tables.get("users", {}).values()
        people = [(line, row) for line, row in users if row["role"] in STAFF_ROLES and row["status"] != "tobedeleted"]
        return tuple(
            RosterStaff(self.external_id(USERS, line, row), row[NAMES[0]], row[NAMES[1]], STAFF_ROLES[row["role"]])
            for line, row in people
        )
