"""Roster import files (service/application/roster_files.py): a OneRoster 1.1 CSV bundle, the same zipped, and the
simple CSV.

Every person here is invented; phone numbers are 555 numbers.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from service.application.oneroster_bundle import IGNORED, read_oneroster
from service.application.roster_files import (
    Problem,
    RosterChild,
    RosterFile,
    RosterFileError,
    RosterGuardian,
    RosterStaff,
    read_simple_csv,
)

# The OneRoster 1.1 CSV headers, column for column as the binding defines them.
HEADERS = {
    "manifest.csv": "propertyName,value",
    "academicSessions.csv": "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "courses.csv": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,"
    "subjects,subjectCodes",
    "classes.csv": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "users.csv": "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
    "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
    "enrollments.csv": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
    "beginDate,endDate",
    "demographics.csv": "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,"
    "blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,"
    "hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus",
}
WHEN = "2026-08-25T08:00:00.000Z"
Files = dict[str, list[dict[str, str]]]


def user(sourced_id: str, role: str, given: str, family: str, **more: str) -> dict[str, str]:
    row = {"sourcedId": sourced_id, "status": "active", "dateLastModified": WHEN, "enabledUser": "true"}
    row |= {"orgSourcedIds": "org-s1", "role": role, "username": f"{given}.{family}".lower(), "givenName": given}
    return row | {"familyName": family, "email": f"{given.lower()}@example.invalid"} | more


def klass(sourced_id: str, title: str, code: str, kind: str, grades: str) -> dict[str, str]:
    return {
        "sourcedId": sourced_id,
        "title": title,
        "grades": grades,
        "courseSourcedId": "crs-homeroom" if kind == "homeroom" else "crs-art",
        "classCode": code,
        "classType": kind,
        "location": "Room 101",
        "schoolSourcedId": "org-s1",
        "termSourcedIds": "term-1,term-2",
        "periods": "7,8" if kind == "scheduled" else "",
    }


def enrol(sourced_id: str, class_id: str, user_id: str, role: str, primary: str = "false", **more: str) -> dict:
    row = {"sourcedId": sourced_id, "status": "active", "dateLastModified": WHEN, "classSourcedId": class_id}
    row |= {"schoolSourcedId": "org-s1", "userSourcedId": user_id, "role": role, "primary": primary}
    return row | {"beginDate": "2026-09-01", "endDate": "2027-07-15"} | more


def bundle() -> Files:
    """A whole school: 2 grades, 3 homeroom classes, an art class every student is also in, 4 teachers, 4 parents."""
    modes = {"academicSessions": "bulk", "categories": "absent", "classes": "bulk", "classResources": "absent"}
    modes |= {"courses": "bulk", "courseResources": "absent", "demographics": "bulk", "enrollments": "bulk"}
    modes |= {"lineItems": "absent", "orgs": "bulk", "resources": "absent", "results": "absent", "users": "bulk"}
    manifest = [{"propertyName": "manifest.version", "value": "1.0"}]
    manifest += [{"propertyName": "oneroster.version", "value": "1.1"}]
    manifest += [{"propertyName": f"file.{name}", "value": mode} for name, mode in modes.items()]
    manifest += [{"propertyName": "source.systemName", "value": "Fake SIS"}]
    return {
        "manifest.csv": manifest,
        "academicSessions.csv": [
            {"sourcedId": "year-2026", "title": "2026-2027", "type": "schoolYear", "schoolYear": "2027"}
            | {"startDate": "2026-09-01", "endDate": "2027-07-15"},
            {"sourcedId": "term-1", "title": "Autumn", "type": "term", "parentSourcedId": "year-2026"}
            | {"startDate": "2026-09-01", "endDate": "2027-01-20", "schoolYear": "2027"},
            {"sourcedId": "term-2", "title": "Spring", "type": "term", "parentSourcedId": "year-2026"}
            | {"startDate": "2027-02-20", "endDate": "2027-07-15", "schoolYear": "2027"},
        ],
        "orgs.csv": [
            {"sourcedId": "org-d1", "name": "Example District", "type": "district", "identifier": "D-01"},
            {"sourcedId": "org-s1", "name": "Example Primary School", "type": "school", "identifier": "SCH-042"}
            | {"parentSourcedId": "org-d1"},
        ],
        "courses.csv": [
            {"sourcedId": "crs-homeroom", "title": "Homeroom", "grades": "03,04", "orgSourcedId": "org-s1"},
            {"sourcedId": "crs-art", "title": "Art", "grades": "03,04", "orgSourcedId": "org-s1"},
        ],
        "classes.csv": [
            klass("hr-3-1", "Grade 3 Class 1", "3-1", "homeroom", "03"),
            klass("hr-3-2", "3-2", "", "homeroom", "03"),  # no classCode: the title names it
            klass("hr-4-1", "Grade 4 Class 1", "4-1", "homeroom", "04"),
            klass("art", "Art Club", "ART", "scheduled", "03,04"),
        ],
        "users.csv": [
            user("usr-t1", "teacher", "Tess", "Example", identifier="T-001", phone="555-0201"),
            user("usr-t2", "teacher", "Theo", "Sample"),
            user("usr-t3", "teacher", "Tara", "Placeholder", identifier="T-003"),
            user("usr-t4", "teacher", "Tom", "Dummy", identifier="T-004"),
            user("usr-s1", "student", "Alice", "Example", identifier="S-0001", grades="03")
            | {"agentSourcedIds": "usr-p1,usr-p2"},
            user("usr-s2", "student", "Bob", "Example", identifier="S-0002", grades="03")
            | {"agentSourcedIds": "usr-p1,usr-p3"},
            user("usr-s3", "student", "Cara", "Sample", identifier="S-0003", grades="03", agentSourcedIds="usr-p4"),
            user("usr-s4", "student", "Dan", "Sample", grades="04"),
            user("usr-s5", "student", "Eve", "Gone", identifier="S-0005", grades="04", status="tobedeleted"),
            user("usr-p1", "parent", "Pat", "Example", phone="555-0101", agentSourcedIds="usr-s1,usr-s2"),
            user("usr-p2", "guardian", "Gail", "Example", sms="+1 555 0102", agentSourcedIds="usr-s1"),
            user("usr-p3", "relative", "Ray", "Example", agentSourcedIds="usr-s2"),
            user("usr-p4", "parent", "Pam", "Sample", identifier="P-0004", phone="555-0104", agentSourcedIds="usr-s3"),
        ],
        "enrollments.csv": [
            enrol("enr-1", "hr-3-1", "usr-t2", "teacher"),
            enrol("enr-2", "hr-3-1", "usr-t1", "teacher", "true"),  # primary wins over enr-1
            enrol("enr-3", "hr-3-2", "usr-t3", "teacher"),
            enrol("enr-4", "art", "usr-t4", "teacher", "true"),
            enrol("enr-5", "hr-3-1", "usr-s1", "student"),
            enrol("enr-6", "hr-3-1", "usr-s2", "student"),
            enrol("enr-7", "hr-3-1", "usr-s3", "student", status="tobedeleted"),  # moved to 3-2
            enrol("enr-8", "hr-3-2", "usr-s3", "student"),
            enrol("enr-9", "hr-4-1", "usr-s4", "student"),
            enrol("enr-10", "hr-4-1", "usr-s5", "student", status="tobedeleted"),
            *(enrol(f"enr-art-{n}", "art", f"usr-s{n}", "student") for n in range(1, 5)),
        ],
        "demographics.csv": [
            {"sourcedId": "usr-s1", "birthDate": "2018-03-01", "sex": "female", "white": "false"},
            {"sourcedId": "usr-s2", "birthDate": "2018-05-02", "sex": "male"},
            {"sourcedId": "usr-s3", "birthDate": "2018-07-03", "sex": "other"},
            {"sourcedId": "usr-t1", "sex": "female"},
        ],
    }


def write_bundle(folder: Path, files: Files, drop: dict[str, list[str]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        columns = [column for column in HEADERS[name].split(",") if column not in (drop or {}).get(name, [])]
        with (folder / name).open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(columns)
            writer.writerows([row.get(column, "") for column in columns] for row in rows)
    return folder


def row(files: Files, name: str, sourced_id: str) -> dict[str, str]:
    key = "propertyName" if name == "manifest.csv" else "sourcedId"
    return next(candidate for candidate in files[name] if candidate[key] == sourced_id)


def line(files: Files, name: str, sourced_id: str) -> int:
    """The physical line of a row (no multi-line fields): the header is line 1."""
    return files[name].index(row(files, name, sourced_id)) + 2


def problems(read: Callable[[], RosterFile]) -> list[Problem]:
    with pytest.raises(RosterFileError) as caught:
        read()
    return caught.value.problems


def expect(found: list[Problem], *wanted: tuple[str, int, str]) -> None:
    """Exactly the wanted problems, in any order: (file, line, a fragment of the message)."""
    assert sorted((p.file, p.line) for p in found) == sorted((file, at) for file, at, _ in wanted), found
    for file, at, fragment in wanted:
        assert any(p.file == file and p.line == at and fragment in p.message for p in found), (fragment, found)


PAT = RosterGuardian("usr-p1", "Pat", "Example", "parent", "555-0101")
EXPECTED = RosterFile(
    "SCH-042",
    (
        RosterChild(
            "S-0001",
            "Alice",
            "Example",
            "female",
            "3-1",
            3,
            "T-001",
            (PAT, RosterGuardian("usr-p2", "Gail", "Example", "guardian", "+1 555 0102")),
            "Grade 3 Class 1",
            "2018-03-01",
            "2026-09-01",
            "2027-07-15",
            "usr-s1",
        ),
        RosterChild(
            "S-0002",
            "Bob",
            "Example",
            "male",
            "3-1",
            3,
            "T-001",
            (PAT, RosterGuardian("usr-p3", "Ray", "Example", "relative", None)),
            "Grade 3 Class 1",
            "2018-05-02",
            "2026-09-01",
            "2027-07-15",
            "usr-s2",
        ),
        RosterChild(
            "S-0003",
            "Cara",
            "Sample",
            None,
            "3-2",
            3,
            "T-003",
            (RosterGuardian("P-0004", "Pam", "Sample", "parent", "555-0104"),),
            "3-2",
            "2018-07-03",
            "2026-09-01",
            "2027-07-15",
            "usr-s3",
        ),
        RosterChild(
            *("usr-s4", "Dan", "Sample", None, "4-1", 4, None, (), "Grade 4 Class 1", None),
            *("2026-09-01", "2027-07-15", "usr-s4"),
        ),
    ),
    (
        RosterStaff("T-001", "Tess", "Example", "teacher"),
        RosterStaff("usr-t2", "Theo", "Sample", "teacher"),
        RosterStaff("T-003", "Tara", "Placeholder", "teacher"),
        RosterStaff("T-004", "Tom", "Dummy", "teacher"),
    ),
    IGNORED,
    whole=True,
)


def test_a_oneroster_folder_is_read_whole(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "bundle", bundle())
    assert '"usr-p1,usr-p2"' in (folder / "users.csv").read_text(encoding="utf-8")  # a quoted multi-value field
    assert read_oneroster(folder) == EXPECTED


def test_the_same_bundle_zipped_is_read_the_same(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "bundle", bundle())
    archive = tmp_path / "oneroster.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in sorted(folder.iterdir()):
            out.write(file, arcname=file.name)
    assert read_oneroster(archive) == EXPECTED


def test_a_file_that_is_not_a_zip_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "roster.zip").write_bytes(b"not a zip at all")
    expect(problems(lambda: read_oneroster(tmp_path / "roster.zip")), ("roster.zip", 0, "zip"))


def test_manifest_versions_modes_and_files_are_checked(tmp_path: Path) -> None:
    files = bundle()
    row(files, "manifest.csv", "manifest.version")["value"] = "1.1"
    row(files, "manifest.csv", "oneroster.version")["value"] = "1.2"
    row(files, "manifest.csv", "file.users")["value"] = "absent"  # a bulk bundle is the whole roster: users needed
    del files["courses.csv"]  # marked bulk
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "bundle", files)))
    expect(
        found,
        ("manifest.csv", line(files, "manifest.csv", "manifest.version"), "manifest.version is '1.1'"),
        ("manifest.csv", line(files, "manifest.csv", "oneroster.version"), "expected 1.1"),
        ("manifest.csv", line(files, "manifest.csv", "file.users"), "'absent'; expected bulk"),
        ("manifest.csv", line(files, "manifest.csv", "file.courses"), "courses.csv is missing"),
    )


def test_a_bundle_without_a_manifest_is_refused(tmp_path: Path) -> None:
    files = bundle()
    del files["manifest.csv"]
    expect(problems(lambda: read_oneroster(write_bundle(tmp_path / "b", files))), ("manifest.csv", 0, "missing"))


def test_missing_required_columns_are_reported_on_line_1_for_every_file(tmp_path: Path) -> None:
    drop = {"classes.csv": ["classType"], "enrollments.csv": ["role", "primary"]}
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "b", bundle(), drop)))
    expect(found, ("classes.csv", 1, "classType"), ("enrollments.csv", 1, "role, primary"))


def test_empty_required_values(tmp_path: Path) -> None:
    files = bundle()
    row(files, "users.csv", "usr-s2")["familyName"] = ""
    row(files, "classes.csv", "art")["title"] = ""
    row(files, "enrollments.csv", "enr-4")["role"] = ""
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "b", files)))
    expect(
        found,
        ("users.csv", line(files, "users.csv", "usr-s2"), "familyName"),
        ("classes.csv", line(files, "classes.csv", "art"), "title"),
        ("enrollments.csv", line(files, "enrollments.csv", "enr-4"), "role"),
    )


def test_bad_grades(tmp_path: Path) -> None:
    files = bundle()
    row(files, "users.csv", "usr-s1")["grades"] = "KG"
    row(files, "users.csv", "usr-s2")["grades"] = "03,04"
    row(files, "users.csv", "usr-s3")["grades"] = ""
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "b", files)))
    expect(found, *(("users.csv", line(files, "users.csv", f"usr-s{n}"), "grades") for n in (1, 2, 3)))


def test_an_end_before_its_beginning(tmp_path: Path) -> None:
    files = bundle()
    row(files, "enrollments.csv", "enr-6")["endDate"] = "2026-08-31"
    row(files, "academicSessions.csv", "term-2")["startDate"] = "2027-08-01"
    expect(
        problems(lambda: read_oneroster(write_bundle(tmp_path / "bundle", files))),
        ("enrollments.csv", line(files, "enrollments.csv", "enr-6"), "endDate '2026-08-31' is before beginDate"),
        ("academicSessions.csv", line(files, "academicSessions.csv", "term-2"), "endDate '2027-07-15' is before"),
    )


def test_bad_sex(tmp_path: Path) -> None:
    files = bundle()
    row(files, "demographics.csv", "usr-s2")["sex"] = "M"
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "b", files)))
    expect(found, ("demographics.csv", line(files, "demographics.csv", "usr-s2"), "sex 'M'"))


def test_duplicate_ids(tmp_path: Path) -> None:
    files = bundle()
    row(files, "users.csv", "usr-s2")["identifier"] = "S-0001"  # two students, one school number
    files["classes.csv"].append(klass("art", "Art Club again", "ART2", "scheduled", "03"))
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "b", files)))
    expect(
        found,
        ("users.csv", line(files, "users.csv", "usr-s2"), "duplicate student identifier 'S-0001' (first on line 6)"),
        ("classes.csv", len(files["classes.csv"]) + 1, "duplicate sourcedId 'art'"),
    )


def test_unknown_references(tmp_path: Path) -> None:
    files = bundle()
    files["enrollments.csv"] += [
        enrol("enr-x", "hr-9-9", "usr-s1", "student"),
        enrol("enr-y", "art", "usr-x", "student"),
    ]
    row(files, "users.csv", "usr-s4")["agentSourcedIds"] = "usr-ghost"
    row(files, "users.csv", "usr-s1")["agentSourcedIds"] = "usr-p1,usr-s5"  # usr-s5 is to be deleted
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "b", files)))
    expect(
        found,
        ("enrollments.csv", line(files, "enrollments.csv", "enr-x"), "classSourcedId 'hr-9-9' unknown"),
        ("enrollments.csv", line(files, "enrollments.csv", "enr-y"), "userSourcedId 'usr-x' unknown"),
        ("users.csv", line(files, "users.csv", "usr-s4"), "usr-ghost"),
        ("users.csv", line(files, "users.csv", "usr-s1"), "usr-s5"),
    )


def test_bad_phones_and_unusable_ids(tmp_path: Path) -> None:
    files = bundle()
    row(files, "users.csv", "usr-p1")["phone"] = "call the office"
    row(files, "users.csv", "usr-p2")["sms"] = "555"
    row(files, "users.csv", "usr-p4")["identifier"] = "-P4"
    row(files, "users.csv", "usr-s1")["identifier"] = "S 0001"
    row(files, "users.csv", "usr-t1")["identifier"] = "T/001"  # the homeroom teacher of two children: one problem
    row(files, "orgs.csv", "org-s1")["identifier"] = "SCH#042"
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "b", files)))
    expect(
        found,
        ("users.csv", line(files, "users.csv", "usr-p1"), "phone 'call the office'"),
        ("users.csv", line(files, "users.csv", "usr-p2"), "phone '555'"),
        ("users.csv", line(files, "users.csv", "usr-p4"), "id '-P4'"),
        ("users.csv", line(files, "users.csv", "usr-s1"), "id 'S 0001'"),
        ("users.csv", line(files, "users.csv", "usr-t1"), "id 'T/001'"),
        ("orgs.csv", line(files, "orgs.csv", "org-s1"), "id 'SCH#042'"),
    )


def test_every_student_needs_exactly_one_homeroom(tmp_path: Path) -> None:
    files = bundle()
    files["enrollments.csv"].append(enrol("enr-twice", "hr-3-2", "usr-s1", "student"))
    files["enrollments.csv"].remove(row(files, "enrollments.csv", "enr-9"))
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "b", files)))
    expect(
        found,
        ("users.csv", line(files, "users.csv", "usr-s1"), "in 2 homeroom classes"),
        ("users.csv", line(files, "users.csv", "usr-s4"), "in 0 homeroom classes"),
    )


def test_exactly_one_school_org(tmp_path: Path) -> None:
    files = bundle()
    files["orgs.csv"].append({"sourcedId": "org-s2", "name": "Other School", "type": "school", "identifier": "SCH-043"})
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "two", files)))
    expect(found, ("orgs.csv", line(files, "orgs.csv", "org-s2"), "2 orgs of type school"))
    files["orgs.csv"] = files["orgs.csv"][:2]
    row(files, "orgs.csv", "org-s1")["type"] = "local"
    expect(problems(lambda: read_oneroster(write_bundle(tmp_path / "none", files))), ("orgs.csv", 0, "0 orgs"))


def test_line_numbers_are_physical_lines_past_multi_line_fields(tmp_path: Path) -> None:
    files = bundle()
    row(files, "orgs.csv", "org-d1")["name"] = "Example\nUnified\nDistrict"  # one record over three lines
    row(files, "orgs.csv", "org-s1")["identifier"] = "SCH 042"
    expect(problems(lambda: read_oneroster(write_bundle(tmp_path / "b", files))), ("orgs.csv", 5, "SCH 042"))


def test_text_that_is_not_utf8_is_reported_at_its_line(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", bundle())
    text = (folder / "users.csv").read_text(encoding="utf-8").replace("Bob", "测试")
    (folder / "users.csv").write_bytes(text.encode("gb18030"))
    expect(problems(lambda: read_oneroster(folder)), ("users.csv", line(bundle(), "users.csv", "usr-s2"), "UTF-8"))


def test_all_problems_of_a_bundle_are_reported_together(tmp_path: Path) -> None:
    files = bundle()
    row(files, "users.csv", "usr-s1")["grades"] = "13"
    row(files, "users.csv", "usr-p3")["phone"] = "x"
    row(files, "demographics.csv", "usr-s3")["sex"] = "unknown"
    files["enrollments.csv"].append(enrol("enr-x", "hr-9-9", "usr-s2", "student"))
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "b", files)))
    expect(
        found,
        ("users.csv", line(files, "users.csv", "usr-s1"), "grades '13'"),
        ("users.csv", line(files, "users.csv", "usr-p3"), "phone 'x'"),
        ("demographics.csv", line(files, "demographics.csv", "usr-s3"), "sex 'unknown'"),
        ("enrollments.csv", line(files, "enrollments.csv", "enr-x"), "hr-9-9"),
    )


SIMPLE_HEADER = (
    "child_id,given_name,family_name,sex,home_class,grade,homeroom_teacher_id,"
    "guardian1_name,guardian1_relation,guardian1_phone,guardian2_name,guardian2_relation,guardian2_phone"
)


def write_simple(path: Path, header: str, *rows: list[str], bom: bool = True) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header.split(","))
        writer.writerows(rows)
    return path


def test_the_simple_csv(tmp_path: Path) -> None:
    path = write_simple(
        tmp_path / "roster.csv",
        SIMPLE_HEADER,
        ["S-0001", "Alice", "Example", "female", "3-1", "3", "T-001", "Pat Example", "parent", "555-0101"]
        + ["Gail Example", "guardian", "+1 555 0102"],
        [],  # a blank line is skipped
        ["S-0002", "Bob", "Example", "男", "3-2", "03", "", "Ray Example", "亲属", "", "", "", ""],
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_simple_csv(path, "SCH-042") == RosterFile(
        "SCH-042",
        (
            RosterChild(
                "S-0001",
                "Alice",
                "Example",
                "female",
                "3-1",
                3,
                "T-001",
                (
                    RosterGuardian("S-0001-G1", "Pat Example", "", "parent", "555-0101"),
                    RosterGuardian("S-0001-G2", "Gail Example", "", "guardian", "+1 555 0102"),
                ),
            ),
            RosterChild(
                "S-0002",
                "Bob",
                "Example",
                "male",
                "3-2",
                3,
                None,
                (RosterGuardian("S-0002-G1", "Ray Example", "", "relative", None),),
            ),
        ),
    )


def test_the_simple_csv_needs_no_bom_and_no_guardian2_columns(tmp_path: Path) -> None:
    header = SIMPLE_HEADER.split(",guardian2_name")[0]
    path = write_simple(
        tmp_path / "r.csv", header, ["C1", "Al", "Ex", "", "1-1", "1", "", "Pat", "parent", ""], bom=False
    )
    child = RosterChild("C1", "Al", "Ex", None, "1-1", 1, None, (RosterGuardian("C1-G1", "Pat", "", "parent", None),))
    assert read_simple_csv(path, "SCH-042") == RosterFile("SCH-042", (child,))


def test_the_simple_csv_missing_columns(tmp_path: Path) -> None:
    path = write_simple(tmp_path / "r.csv", "child_id,given_name,family_name,sex,home_class,homeroom_teacher_id")
    expect(problems(lambda: read_simple_csv(path, "SCH-042")), ("r.csv", 1, "grade, guardian1_name"))


def test_the_simple_csv_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    good = ["S-1", "Al", "Ex", "female", "3-1", "3", "T-1", "Pat Example", "parent", "555-0101", "", "", ""]
    path = write_simple(
        tmp_path / "r.csv",
        SIMPLE_HEADER,
        good,  # line 2
        ["S-2", "", "Ex"] + good[3:],  # 3: empty given name
        ["S-3", "Al", "Ex", "f", "3-1", "13"] + good[6:],  # 4: bad sex and bad grade
        good,  # 5: S-1 again
        ["S 4"] + good[1:6] + ["T 1"] + good[7:],  # 6: unusable child and teacher ids
        ["S-5"] + good[1:8] + ["uncle", "12"] + good[10:],  # 7: bad relation and phone
        ["S-6"] + good[1:10] + ["", "parent", "555-0106"],  # 8: a guardian2 with no name
    )
    expect(
        problems(lambda: read_simple_csv(path, "SCH-042")),
        ("r.csv", 3, "given_name"),
        ("r.csv", 4, "sex 'f'"),
        ("r.csv", 4, "grade '13'"),
        ("r.csv", 5, "duplicate child_id 'S-1' (first on line 2)"),
        ("r.csv", 6, "child_id 'S 4'"),
        ("r.csv", 6, "homeroom_teacher_id 'T 1'"),
        ("r.csv", 7, "guardian1_relation 'uncle'"),
        ("r.csv", 7, "guardian1_phone '12'"),
        ("r.csv", 8, "guardian2_name is empty"),
    )


def simple_row(given: str = "Alice", guardian: str = "Pat Example", home_class: str = "3-1") -> list[str]:
    return ["S-0001", given, "Example", "female", home_class, "3", "T-001", guardian, "parent", "555-0101"]


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        (simple_row(given="A" * 100_000), "given_name is longer than 60 characters"),
        (simple_row(guardian="P" * 61), "guardian1_name is longer than 60 characters"),
        (simple_row(given="Al\x00ice"), "given_name holds control characters"),
        (simple_row(home_class="3-1\x1b[2J"), "home_class holds control characters"),
        (simple_row(home_class="x" * 1001), "home_class is longer than 1000 characters"),
    ],
)
def test_the_simple_csv_has_the_limits_of_http(tmp_path: Path, row: list[str], fragment: str) -> None:
    path = write_simple(tmp_path / "r.csv", SIMPLE_HEADER, row)
    expect(problems(lambda: read_simple_csv(path, "SCH-042")), ("r.csv", 2, fragment))


def test_a_field_over_128_kib_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = write_simple(tmp_path / "r.csv", SIMPLE_HEADER, simple_row(home_class="x" * (130 * 1024)))
    found = problems(lambda: read_simple_csv(path, "SCH-042"))
    assert [(p.file, "not a well-formed CSV file" in p.message) for p in found] == [("r.csv", True)]


def test_oneroster_names_have_the_limits_of_http(tmp_path: Path) -> None:
    files = bundle()
    row(files, "users.csv", "usr-s1")["givenName"] = "A" * 61
    row(files, "users.csv", "usr-p1")["familyName"] = "Ex\x00ample"
    found = problems(lambda: read_oneroster(write_bundle(tmp_path / "b", files)))
    expect(
        found,
        ("users.csv", line(files, "users.csv", "usr-s1"), "givenName is longer than 60"),
        ("users.csv", line(files, "users.csv", "usr-p1"), "familyName holds control characters"),
    )
