"""Roster import files (名册): a OneRoster 1.1 CSV bundle or the simple one-sheet CSV, parsed and checked. Pure.

Any problem raises RosterFileError with every problem found; nothing partial is returned. Problem.line is the physical
line where the CSV record starts (header = 1; 0 = the whole file). Structural problems (manifest, files, columns,
encoding) stop a bundle's checks before the cross-file ones."""

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PHONE = re.compile(r"^(\+?[0-9][0-9 -]{5,19})?$")  # or empty
RELATIONS = {"parent": "parent", "guardian": "guardian", "relative": "relative"}
GRADES = {f"{n:02d}": n for n in range(1, 13)}
ONEROSTER_SEX = {"female": "female", "male": "male", "other": None, "unspecified": None, "": None}
TABLES = {  # file: (columns that must have values, the first being the row's unique key; other columns read)
    "orgs": ("sourcedId type", "status identifier"),
    "users": ("sourcedId role givenName familyName", "status identifier sms phone agentSourcedIds grades"),
    "classes": ("sourcedId title classType", "status classCode"),
    "enrollments": ("sourcedId classSourcedId userSourcedId role", "status primary"),
    "demographics": ("sourcedId", "status sex"),
}
SIMPLE_REQUIRED = "child_id given_name family_name home_class grade guardian1_name guardian1_relation"
SIMPLE = (SIMPLE_REQUIRED, "sex homeroom_teacher_id guardian1_phone")  # guardian2_* columns are optional
SIMPLE_SEX = {"female": "female", "male": "male", "女": "female", "男": "male", "": None}
SIMPLE_RELATIONS = RELATIONS | {"家长": "parent", "监护人": "guardian", "亲属": "relative"}
MANIFEST, USERS, ENROLLMENTS = ("propertyName value", ""), "users.csv", "enrollments.csv"
ID_RULE = "letters, digits, _ . - (at most 64, starting with a letter or digit)"
Rows = dict[str, tuple[int, dict[str, str]]]  # key -> (line, row), in file order
UNPACKED_LIMIT = 64 << 20  # far above any school's roster; a zip that unpacks to more is refused unread


@dataclass(frozen=True)
class RosterGuardian:
    guardian_id: str
    given_name: str
    family_name: str
    relation: str  # "parent" / "guardian" / "relative"
    phone: str | None


@dataclass(frozen=True)
class RosterChild:
    child_id: str  # the school's own number; every OneRoster record's id is its identifier if set, else sourcedId
    given_name: str
    family_name: str
    sex: str | None  # "female" / "male" / None
    home_class: str
    grade: int  # 1..12
    homeroom_teacher_id: str | None
    guardians: tuple[RosterGuardian, ...]


@dataclass(frozen=True)
class RosterFile:
    school_id: str
    children: tuple[RosterChild, ...]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str


class _Problems(list):
    def add(self, file: str, line: int, message: str) -> None:
        self.append(Problem(file, line, message))

    def require(self, condition: bool, file: str, line: int, message: str) -> None:
        self.extend([] if condition else [Problem(file, line, message)])


class RosterFileError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s); first: {problems[0] if problems else None}")
        self.problems = list(problems)


def read_oneroster(path: Path) -> RosterFile:
    """A OneRoster 1.1 CSV bundle: a folder, or a .zip with the files at its root."""
    bundle = _Bundle(Path(path), problems := _Problems())
    roster = RosterFile(bundle.school(), bundle.children()) if not problems and bundle.load() else None
    if problems or roster is None:
        raise RosterFileError(problems)
    return roster


def read_simple_csv(path: Path, school_id: str) -> RosterFile:
    """One row per child. guardianN_name is a full name: it goes to given_name, family_name stays empty."""
    path, problems = Path(path), _Problems()
    rows = _parse(path.name, path.read_bytes(), SIMPLE, problems) or {}
    children = tuple(_simple_child(path.name, line, row, problems) for line, row in rows.values())
    if problems:
        raise RosterFileError(problems)
    return RosterFile(school_id, children)


def _parse(name: str, data: bytes, spec: tuple[str, str], problems: _Problems) -> Rows | None:
    if not data.strip():
        problems.add(name, 0, "the file is missing or empty")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.add(name, data[: error.start].count(b"\n") + 1, "not UTF-8 text")
        return None
    reader, required, rows = csv.reader(io.StringIO(text, newline="")), spec[0].split(), {}
    header, end = [cell.strip() for cell in next(reader, [])], 1
    if missing := [column for column in required + spec[1].split() if column not in header]:
        problems.add(name, 1, "missing columns: " + ", ".join(missing))
        return None
    for cells in reader:
        line, end = end + 1, reader.line_num
        row = dict(zip(header, [cell.strip() for cell in cells] + [""] * len(header), strict=False))
        if not any(row.values()) or row.get("status") == "tobedeleted":
            continue
        if empty := [column for column in required if not row[column]]:
            problems.add(name, line, "empty required values: " + ", ".join(empty))
        if (key := row[required[0]]) in rows:
            problems.add(name, line, f"duplicate {required[0]} {key!r} (first on line {rows[key][0]})")
        elif key:  # a row with other required values empty is kept, so that it causes no further problems
            rows[key] = (line, row)
    return rows


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class _Bundle:
    """A OneRoster bundle being read: its files, its tables once loaded, and the problems found so far."""

    def __init__(self, path: Path, problems: _Problems) -> None:
        self.problems, self.tables, self.files = problems, {}, {}
        try:
            if path.is_dir():
                self.files = {file.name: file.read_bytes() for file in path.iterdir() if file.suffix == ".csv"}
            else:
                with zipfile.ZipFile(path) as bundle:  # the CSV files at the zip's root
                    inside = [i for i in bundle.infolist() if "/" not in i.filename and i.filename.endswith(".csv")]
                    if sum(i.file_size for i in inside) > UNPACKED_LIMIT:
                        problems.add(path.name, 0, f"the files unpack to more than {UNPACKED_LIMIT >> 20} MiB")
                    else:
                        self.files = {i.filename: bundle.read(i) for i in inside}
        except zipfile.BadZipFile as error:
            problems.add(path.name, 0, f"not a folder or a zip file: {error}")

    def load(self) -> bool:
        """Checks the manifest and parses the tables; False when structural problems stop the checks."""
        if (manifest := _parse("manifest.csv", self.files.get("manifest.csv", b""), MANIFEST, self.problems)) is None:
            return False
        self.check_manifest(manifest)
        for table, spec in TABLES.items():
            if manifest.get(f"file.{table}", (0, {}))[1].get("value") == "bulk" and f"{table}.csv" in self.files:
                self.tables[table] = _parse(f"{table}.csv", self.files[f"{table}.csv"], spec, self.problems)
        self.tables.setdefault("demographics", {})
        return all(self.tables.get(table) is not None for table in TABLES)

    def check_manifest(self, manifest: Rows) -> None:
        expected = {"manifest.version": ("1.0",), "oneroster.version": ("1.1",)}
        # the roster is replaced whole, so a delta file would have nothing to apply to
        expected |= {f"file.{table}": ("bulk", "absent")[: 1 + (table == "demographics")] for table in TABLES}
        for key, allowed in expected.items():
            line, row = manifest.get(key, (0, {}))
            if (value := row.get("value", "absent" if key.startswith("file.") else "")) not in allowed:
                self.problems.add("manifest.csv", line, f"{key} is {value!r}; expected {' or '.join(allowed)}")
        for key, (line, row) in manifest.items():
            if key.startswith("file.") and row["value"] in ("bulk", "delta") and f"{key[5:]}.csv" not in self.files:
                self.problems.add("manifest.csv", line, f"{key} is {row['value']} but {key[5:]}.csv is missing")

    def external_id(self, file: str, line: int, row: dict[str, str]) -> str:
        value = row.get("identifier") or row["sourcedId"]
        self.problems.require(bool(ID.match(value)), file, line, f"id {value!r} is not usable: {ID_RULE}")
        return value

    def school(self) -> str:
        schools = [(line, row) for line, row in self.tables["orgs"].values() if row["type"] == "school"]
        line = schools[1][0] if len(schools) > 1 else 0
        self.problems.require(len(schools) == 1, "orgs.csv", line, f"{len(schools)} orgs of type school; expected 1")
        return self.external_id("orgs.csv", *schools[0]) if len(schools) == 1 else ""

    def homerooms(self) -> tuple[dict[str, list[dict]], dict[str, str]]:
        """Student sourcedId -> their homeroom classes; homeroom class -> its teacher's id (primary=true first)."""
        classes, users, rooms, primary, other = self.tables["classes"], self.tables["users"], {}, {}, {}
        for line, row in self.tables["enrollments"].values():
            for column, known in (("classSourcedId", classes), ("userSourcedId", users)):
                self.problems.require(row[column] in known, ENROLLMENTS, line, f"{column} {row[column]!r} unknown")
            room = classes.get(row["classSourcedId"], (0, {}))[1]
            if room.get("classType") != "homeroom" or row["userSourcedId"] not in users:
                continue
            if row["role"] == "student":
                rooms.setdefault(row["userSourcedId"], []).append(room)
            elif row["role"] == "teacher":
                (primary if row["primary"] == "true" else other).setdefault(room["sourcedId"], row["userSourcedId"])
        return rooms, {room: self.external_id(USERS, *users[user]) for room, user in (other | primary).items()}

    def children(self) -> tuple[RosterChild, ...]:
        users, self.first_lines = self.tables["users"], {}
        self.rooms, self.teachers = self.homerooms()
        self.guardians = {key: self.guardian(*entry) for key, entry in users.items() if entry[1]["role"] in RELATIONS}
        return tuple(self.child(key) for key, (_, row) in users.items() if row["role"] == "student")

    def child(self, key: str) -> RosterChild:
        (line, row), rooms, need = self.tables["users"][key], self.rooms.get(key, []), self.problems.require
        sex_line, demographic = self.tables["demographics"].get(key, (0, {}))
        grades, sex, agents = _split(row["grades"]), demographic.get("sex", ""), _split(row["agentSourcedIds"])
        child_id = self.external_id(USERS, line, row)
        first = self.first_lines.setdefault(child_id, line)
        need(first == line, USERS, line, f"duplicate student identifier {child_id!r} (first on line {first})")
        need(len(rooms) == 1, USERS, line, f"student is in {len(rooms)} homeroom classes; expected exactly 1")
        need(len(grades) == 1 and grades[0] in GRADES, USERS, line, f"grades {row['grades']!r}: expected one of 01..12")
        need(sex in ONEROSTER_SEX, "demographics.csv", sex_line, f"sex {sex!r}: not female, male, other, unspecified")
        unknown = [agent for agent in agents if agent not in self.tables["users"]]
        need(not unknown, USERS, line, "agentSourcedIds unknown: " + ", ".join(unknown))
        room = rooms[0] if len(rooms) == 1 else {}
        names = (child_id, row["givenName"], row["familyName"], ONEROSTER_SEX.get(sex))
        home = (room.get("classCode") or room.get("title", ""), GRADES.get(grades[0], 0) if grades else 0)
        guardians = tuple(self.guardians[agent] for agent in agents if agent in self.guardians)
        return RosterChild(*names, *home, self.teachers.get(room.get("sourcedId", "")), guardians)

    def guardian(self, line: int, row: dict[str, str]) -> RosterGuardian:
        phone = row["phone"] or row["sms"] or None
        self.problems.require(bool(PHONE.match(phone or "")), USERS, line, f"phone {phone!r} is not a phone number")
        names = (self.external_id(USERS, line, row), row["givenName"], row["familyName"])
        return RosterGuardian(*names, RELATIONS[row["role"]], phone)


def _simple_child(file: str, line: int, row: dict[str, str], problems: _Problems) -> RosterChild:
    for column in ("child_id", "homeroom_teacher_id"):
        usable = not row[column] or bool(ID.match(row[column]))
        problems.require(usable, file, line, f"{column} {row[column]!r} is not usable: {ID_RULE}")
    sex, ok = row["sex"].lower(), re.fullmatch(r"0?[1-9]|1[0-2]", row["grade"]) is not None
    problems.require(sex in SIMPLE_SEX, file, line, f"sex {row['sex']!r}: expected female, male or empty")
    problems.require(ok, file, line, f"grade {row['grade']!r}: expected 1..12")
    guardians = tuple(guardian for n in (1, 2) if (guardian := _simple_guardian(file, line, row, n, problems)))
    values = (row["child_id"], row["given_name"], row["family_name"], SIMPLE_SEX.get(sex), row["home_class"])
    return RosterChild(*values, int(row["grade"]) if ok else 0, row["homeroom_teacher_id"] or None, guardians)


def _simple_guardian(file: str, line: int, row: dict[str, str], n: int, problems: _Problems) -> RosterGuardian | None:
    name, relation, phone = (row.get(f"guardian{n}_{part}", "") for part in ("name", "relation", "phone"))
    if not (name or relation or phone):
        return None
    problems.require(bool(name), file, line, f"guardian{n}_name is empty but other guardian{n} columns are set")
    message = f"guardian{n}_relation {relation!r}: expected parent, guardian or relative"
    problems.require(relation.lower() in SIMPLE_RELATIONS, file, line, message)
    problems.require(bool(PHONE.match(phone)), file, line, f"guardian{n}_phone {phone!r} is not a phone number")
    kind = SIMPLE_RELATIONS.get(relation.lower(), relation)
    return RosterGuardian(f"{row['child_id']}-G{n}", name, "", kind, phone or None)
