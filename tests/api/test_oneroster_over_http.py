"""A OneRoster 1.1 CSV bundle written by hand from the specification's tables (not by Handoff's own code), as a
school's records system exports it: zipped inside one folder, sent with the type a browser gives a zip. The clean
bundle imports; the same bundle with one deliberate error of each kind is refused whole, every error reported with its
file and line, and nothing is recorded.

Every person here is invented; phone numbers are 555 numbers."""

# ruff: noqa: E501  (the CSV headers are written out whole, as the specification gives them)

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

from httpx2 import Response

from aggregates.staff import Role
from service.application.context import Actor, operator_context
from tests.api.conftest import Tablet
from tests.support import setup_school

SCHOOL = "2133099001"
MANIFEST = """propertyName,value
manifest.version,1.0
oneroster.version,1.1
file.academicSessions,bulk
file.categories,absent
file.classes,bulk
file.classResources,absent
file.courses,bulk
file.courseResources,absent
file.demographics,bulk
file.enrollments,bulk
file.lineItems,absent
file.orgs,bulk
file.resources,absent
file.results,absent
file.users,bulk
source.systemName,城南区学籍系统
"""
SESSIONS = """sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear
y2026,active,2026-08-20T09:00:00.000Z,2026学年,schoolYear,2026-09-01,2027-07-10,,2027
t2026a,active,2026-08-20T09:00:00.000Z,第一学期,term,2026-09-01,2027-01-20,y2026,2027
"""
ORGS = """sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
d1,active,2026-08-20T09:00:00.000Z,城南区教育局,district,D-CN,
s1,active,2026-08-20T09:00:00.000Z,城南实验小学,school,2133099001,d1
"""
COURSES = """sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes
c-home,active,2026-08-20T09:00:00.000Z,y2026,班级,HOME,03,s1,,
c-art,active,2026-08-20T09:00:00.000Z,y2026,美术,ART,03,s1,美术,
"""
CLASSES = """sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
k302,active,2026-08-20T09:00:00.000Z,三年级（2）班,03,c-home,302,homeroom,302教室,s1,t2026a,,,
k-art,active,2026-08-20T09:00:00.000Z,美术社团,03,c-art,ART,scheduled,美术室,s1,t2026a,美术,,"7,8"
"""
USERS = """sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password
u-t1,active,2026-08-20T09:00:00.000Z,true,s1,teacher,wangfang,,芳,王,,T-101,,,555-0101,,,
u-a1,active,2026-08-20T09:00:00.000Z,true,s1,administrator,lijun,,军,李,,A-001,,,,,,
u-s1,active,2026-08-20T09:00:00.000Z,true,s1,student,zhangxiaoming,,小明,张,,S-30201,,,,"u-p1,u-p2",03,
u-s2,active,2026-08-20T09:00:00.000Z,true,s1,student,ouyangxue,,雪,欧阳,,S-30202,,,,u-p3,03,
u-p1,active,2026-08-20T09:00:00.000Z,true,s1,parent,zhangwei,,伟,张,,,,,555-0111,u-s1,,
u-p2,active,2026-08-20T09:00:00.000Z,true,s1,guardian,liuna,,娜,刘,,,,555-0112,,u-s1,,
u-p3,active,2026-08-20T09:00:00.000Z,true,s1,relative,ouyangming,,明,欧阳,,,,,555-0113,u-s2,,
"""
ENROLLMENTS = """sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
e1,active,2026-08-20T09:00:00.000Z,k302,s1,u-t1,teacher,true,2026-09-01,2027-07-10
e2,active,2026-08-20T09:00:00.000Z,k302,s1,u-s1,student,false,2026-09-01,2027-07-10
e3,active,2026-08-20T09:00:00.000Z,k302,s1,u-s2,student,false,2027-01-04,2027-07-10
e4,active,2026-08-20T09:00:00.000Z,k-art,s1,u-s1,student,false,2026-09-01,2027-01-20
"""
DEMOGRAPHICS = """sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus
u-s1,active,2026-08-20T09:00:00.000Z,2017-10-03,male,,,,,,,,CN,,杭州,
u-s2,active,2026-08-20T09:00:00.000Z,2018-01-15,female,,,,,,,,,,,
"""
CLEAN = {
    "manifest.csv": MANIFEST,
    "academicSessions.csv": SESSIONS,
    "orgs.csv": ORGS,
    "courses.csv": COURSES,
    "classes.csv": CLASSES,
    "users.csv": USERS,
    "enrollments.csv": ENROLLMENTS,
    "demographics.csv": DEMOGRAPHICS,
}
ERRORS = [  # (file, the clean text, the broken text, the line it is on, what the report says)
    # 1. manifest: a file mode that is not absent, bulk or delta
    ("manifest.csv", "file.lineItems,absent", "file.lineItems,none", 12, "file.lineItems is 'none'"),
    # 2. an empty required field: the class's schoolSourcedId
    ("classes.csv", "homeroom,302教室,s1,", "homeroom,302教室,,", 2, "schoolSourcedId"),
    # 3. a malformed date, in demographics
    ("demographics.csv", "2018-01-15", "2018/01/15", 3, "birthDate '2018/01/15'"),
    # 4. a value outside an enumeration: a user role that is not one of the specification's eight; the student
    #    whose agent it is loses no guardian silently: that is reported on the student's line too
    ("users.csv", "true,s1,relative,", "true,s1,uncle,", 8, "role 'uncle'"),
    ("users.csv", None, None, 5, "agent 'u-p3' has role 'uncle'"),
    # 5. a malformed date and time (format)
    ("orgs.csv", "2026-08-20T09:00:00.000Z,城南区", "20.08.2026 09:00,城南区", 2, "dateLastModified"),
    # 6. a boolean that is neither true nor false (format of an enumeration)
    ("users.csv", "true,s1,administrator", "yes,s1,administrator", 3, "enabledUser 'yes'"),
    # 7. uniqueness: two enrolments with one sourcedId
    ("enrollments.csv", "e4,active", "e3,active", 5, "duplicate sourcedId 'e3'"),
    # 8. a reference to nothing: an enrolment in a class that is not in classes.csv
    ("enrollments.csv", "k302,s1,u-t1,", "k303,s1,u-t1,", 2, "classSourcedId 'k303' unknown"),
]


def zipped(files: dict[str, str], folder: str = "oneroster-export-2026-08-20/") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bundle:
        for name, text in files.items():
            bundle.writestr(folder + name, text.encode())
    return out.getvalue()


def broken() -> dict[str, str]:
    files = dict(CLEAN)
    for file, clean, bad, _, _ in ERRORS:
        if clean is not None:
            assert files[file].count(clean) == 1, clean
            files[file] = files[file].replace(clean, bad)
    return files


def upload(tablet: Tablet, data: bytes, token: str, content_type: str = "application/x-zip-compressed") -> Response:
    params = {"device_id": "office-pc", "device_time": "2026-11-30T09:00:00+08:00"}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"roster-{len(data)}"}
    headers["Content-Type"] = content_type
    return tablet.client.post(f"/api/v1/schools/{SCHOOL}/roster", params=params, content=data, headers=headers)


def admin_token(tablet: Tablet) -> str:
    setup_school(tablet.handoff, SCHOOL)
    tablet.handoff.staff.register_staff(operator_context(SCHOOL), "admin-9", Role.ADMIN, "D1")
    return tablet.handoff.staff.issue_token(operator_context(SCHOOL), "admin-9", timedelta(days=1))["token"]


def test_a_bundle_with_one_error_of_each_kind_reports_them_all_and_imports_nothing(tablet: Tablet) -> None:
    token = admin_token(tablet)
    before = tablet.event_count()
    refused = upload(tablet, zipped(broken()), token)
    assert (refused.status_code, refused.json()["code"]) == (422, "bad_roster_file"), refused.text
    found = refused.json()["problems"]
    assert sorted((p["file"], p["line"]) for p in found) == sorted((e[0], e[3]) for e in ERRORS), found
    for file, _, _, line, says in ERRORS:
        assert any(p["file"] == file and p["line"] == line and says in p["problem"] for p in found), (says, found)
    assert tablet.event_count() == before


def test_the_clean_bundle_imports_from_a_folder_in_the_zip_sent_as_octet_stream(tablet: Tablet) -> None:
    token = admin_token(tablet)
    answer = upload(tablet, zipped(CLEAN), token, "application/octet-stream")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["children_added"], answer.json()["guardians_added"]) == (2, 3)
    admin = Actor("admin-9", Role.ADMIN, SCHOOL, "D1")
    assert tablet.handoff.roster.child_card(admin, SCHOOL, "S-30202")["name"] == "欧阳雪"
