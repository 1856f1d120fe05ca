"""Roster import files (名册): a OneRoster 1.1 CSV bundle or the simple one-sheet CSV, parsed and checked. Pure.

Any problem raises RosterFileError with every problem found; nothing partial is returned. Problem.line is the physical
line where the CSV record starts (header = 1; 0 = the whole file). Structural problems (manifest, files, columns,
encoding) stop a bundle's checks before the cross-file ones. A bundle is checked against the specification's tables
(service/application/oneroster.py) before Handoff's own needs (one school, one homeroom per student, usable ids)."""

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from service.application.text import NAME_MAX, has_control_characters

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PHONE = re.compile(r"^(\+?[0-9][0-9 -]{5,19})?$")  # or empty
RELATIONS = {"parent": "parent", "guardian": "guardian", "relative": "relative"}
SIMPLE_REQUIRED = "child_id given_name family_name home_class grade guardian1_name guardian1_relation"
SIMPLE = (SIMPLE_REQUIRED, "sex homeroom_teacher_id guardian1_phone")  # guardian2_* columns are optional
SIMPLE_SEX = {"female": "female", "male": "male", "女": "female", "男": "male", "": None}
SIMPLE_RELATIONS = RELATIONS | {"家长": "parent", "监护人": "guardian", "亲属": "relative"}
ID_RULE = "letters, digits, _ . - (at most 64, starting with a letter or digit)"
Rows = dict[str, tuple[int, dict[str, str]]]  # key -> (line, row), in file order
RowCheck = Callable[[dict[str, str]], list[str]]
NAME_COLUMNS = frozenset(
    {"givenName", "familyName", "middleName", "given_name", "family_name"} | {f"guardian{n}_name" for n in (1, 2)}
)
CELL_MAX = 1000
"""Characters in any other cell: far above any id, class title or list of ids a roster holds."""


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
    home_class_name: str = ""  # the home class as people say it, e.g. 三年级（2）班; the code is home_class
    birth_date: str | None = None  # YYYY-MM-DD, sealed
    starts_on: str | None = None  # the homeroom enrolment's beginDate: a transfer student starts then
    ends_on: str | None = None  # its endDate: no longer expected after it
    source_id: str | None = None  # the OneRoster sourcedId, by which a later delta may name the child


@dataclass(frozen=True)
class RosterStaff:
    staff_id: str  # identifier if set, else sourcedId
    given_name: str
    family_name: str
    role: str  # "teacher" / "admin"


@dataclass(frozen=True)
class RowStamp:
    """When the school's records system last changed one row of a OneRoster file (its dateLastModified)."""

    file: str
    line: int
    sourced_id: str
    modified: str

    @property
    def key(self) -> str:
        return f"{self.file}/{self.sourced_id}"


@dataclass(frozen=True)
class RosterFile:
    school_id: str
    children: tuple[RosterChild, ...]
    staff: tuple[RosterStaff, ...] = ()
    ignored: tuple[str, ...] = ()  # what the file holds that Handoff does not keep, and why
    whole: bool = False  # the school's whole roster (a OneRoster bulk bundle): a child it leaves out has left
    left: tuple[str, ...] = ()  # children the records say left (a OneRoster delta's deleted students)
    stamps: tuple[RowStamp, ...] = field(default=(), compare=False)  # when each OneRoster row about a person last
    # changed, kept once applied; bookkeeping of the records system, not roster content, so not compared
    known_as: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (sourcedId, Handoff id), kept too


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str


class _Problems(list):
    def add(self, file: str, line: int, message: str) -> None:
        if (problem := Problem(file, line, message)) not in self:  # e.g. a teacher's id, met once per class
            self.append(problem)

    def require(self, condition: bool, file: str, line: int, message: str) -> None:
        if not condition:
            self.add(file, line, message)


class RosterFileError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s); first: {problems[0] if problems else None}")
        self.problems = list(problems)


def read_simple_csv(path: Path, school_id: str) -> RosterFile:
    """One row per child. guardianN_name is a full name: it goes to given_name, family_name stays empty."""
    path, problems = Path(path), _Problems()
    rows = _parse(path.name, path.read_bytes(), SIMPLE, problems) or {}
    children = tuple(_simple_child(path.name, line, row, problems) for line, row in rows.values())
    if problems:
        raise RosterFileError(problems)
    return RosterFile(school_id, children)


def _parse(
    name: str,
    data: bytes,
    spec: tuple[str, str],
    problems: _Problems,
    check: RowCheck | None = None,
    deleted: bool = False,
) -> Rows | None:
    """The rows of a CSV file by their key (its first required column), each checked; None when it cannot be read.
    Rows to be deleted are left out, unless `deleted` (a delta file, whose deletions are changes to apply)."""
    if not data.strip():
        problems.add(name, 0, "the file is missing or empty")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.add(name, data[: error.start].count(b"\n") + 1, "not UTF-8 text")
        return None
    reader, required = csv.reader(io.StringIO(text, newline="")), spec[0].split()
    rows: Rows = {}
    header, end = [cell.strip() for cell in next(reader, [])], 1
    if missing := [column for column in required + spec[1].split() if column not in header]:
        problems.add(name, 1, "missing columns: " + ", ".join(missing))
        return None
    try:
        records = [(reader.line_num, cells) for cells in reader]
    except csv.Error as error:  # e.g. a field over the csv module's limit of 128 KiB
        problems.add(name, reader.line_num, f"not a well-formed CSV file ({error})")
        return None
    for physical_end, cells in records:
        line, end = end + 1, physical_end
        row = dict(zip(header, [cell.strip() for cell in cells] + [""] * len(header), strict=False))
        if not any(row.values()) or (row.get("status") == "tobedeleted" and not deleted):
            continue
        _check_cells(name, line, row, problems)
        if empty := [column for column in required if not row[column]]:
            problems.add(name, line, "empty required values: " + ", ".join(empty))
        for problem in check(row) if check else ():
            problems.add(name, line, problem)
        if (key := row[required[0]]) in rows:
            problems.add(name, line, f"duplicate {required[0]} {key!r} (first on line {rows[key][0]})")
        elif key:  # a row with other required values empty is kept, so that it causes no further problems
            rows[key] = (line, row)
    return rows


def check_name(value: str) -> str | None:
    """Names are at most 60 characters, as over HTTP (the control characters are refused by the row checks)."""
    return f"is longer than {NAME_MAX} characters" if len(value) > NAME_MAX else None


def _check_cells(name: str, line: int, row: dict[str, str], problems: _Problems) -> None:
    """The same limits on text as over HTTP: names at most 60 characters and no control characters; elsewhere no
    control characters but the line breaks a quoted CSV field may hold (an organisation's name, say)."""
    for column, value in row.items():
        limit = NAME_MAX if column in NAME_COLUMNS else CELL_MAX
        if has_control_characters(value if column in NAME_COLUMNS else value.replace("\r", "").replace("\n", "")):
            problems.add(name, line, f"{column} holds control characters (e.g. a NUL byte or a line break)")
        elif len(value) > limit:
            problems.add(name, line, f"{column} is longer than {limit} characters")


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
