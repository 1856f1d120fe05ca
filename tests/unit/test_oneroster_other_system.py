"""A OneRoster 1.1 bundle as another records system writes it, typed here from the specification (IMS Global OneRoster
v1.1 CSV Tables), not from Handoff's parser: bulk rows with status and dateLastModified left empty, its own metadata.*
columns at the end of each file, Windows line ends and a byte-order mark, and the gradebook and resource files
(categories, lineItems, resources, results) in bulk. It imports cleanly, and the answer says what was not read.

Every person here is invented; phone numbers are 555 numbers."""

from __future__ import annotations

from pathlib import Path

from service.application.oneroster_bundle import IGNORED
from service.application.roster_files import RosterFile
from service.application.roster_import import read_roster

BUNDLE = {
    "academicSessions.csv": """\
sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear,metadata.exsis.code
as-2026,,,2026-2027,schoolYear,2026-09-01,2027-07-10,,2027,SY26
as-2026-t1,,,Autumn term,term,2026-09-01,2027-01-20,as-2026,2027,T1
as-2026-gp1,,,First grading period,gradingPeriod,2026-09-01,2026-11-15,as-2026-t1,2027,GP1
""",
    "categories.csv": """\
sourcedId,status,dateLastModified,title,metadata.exsis.weight
cat-hw,,,Homework,0.4
""",
    "classes.csv": """\
sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods,metadata.exsis.room
cls-3a,,,Class 3A,03,crs-home,3A,homeroom,Room 12,org-s,as-2026-t1,,,,R12
cls-math3a,,,Maths 3A,03,crs-math,M3A,scheduled,Room 12,org-s,"as-2026-t1",Mathematics,,"1,2",R12
""",
    "courses.csv": """\
sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes,metadata.exsis.credits
crs-home,,,as-2026,Homeroom,HR,"02,03",org-s,,,0
crs-math,,,as-2026,Mathematics 3,MATH3,03,org-s,Mathematics,,1
""",
    "demographics.csv": """\
sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus,metadata.exsis.verified
usr-s1,,,2018-03-14,female,false,false,false,false,true,false,true,US,CA,Fresno,01652,true
usr-s2,,,2018-07-02,male,,true,,,,,,JP,,,,false
""",
    "enrollments.csv": """\
sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate,metadata.exsis.seat
enr-1,,,cls-3a,org-s,usr-t1,teacher,true,,,
enr-2,,,cls-3a,org-s,usr-s1,student,false,2026-09-01,2027-07-10,4
enr-3,,,cls-3a,org-s,usr-s2,student,false,2026-12-07,,5
enr-4,,,cls-math3a,org-s,usr-s1,student,false,,,
enr-5,,,cls-math3a,org-s,usr-t1,teacher,true,,,
""",
    "lineItems.csv": """\
sourcedId,status,dateLastModified,title,description,assignDate,dueDate,classSourcedId,categorySourcedId,gradingPeriodSourcedId,resultValueMin,resultValueMax
li-1,,,Fractions worksheet,,2026-10-05,2026-10-09,cls-math3a,cat-hw,as-2026-gp1,0,10
""",
    "manifest.csv": """\
propertyName,value
manifest.version,1.0
oneroster.version,1.1
file.academicSessions,bulk
file.categories,bulk
file.classes,bulk
file.classResources,absent
file.courses,bulk
file.courseResources,absent
file.demographics,bulk
file.enrollments,bulk
file.lineItems,bulk
file.orgs,bulk
file.resources,bulk
file.results,bulk
file.users,bulk
source.systemName,Example SIS
source.systemCode,EXSIS-7
""",
    "orgs.csv": """\
sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId,metadata.exsis.region
org-d,,,North District,district,D-NORTH,,north
org-s,,,North Primary School,school,2133099007,org-d,north
""",
    "resources.csv": """\
sourcedId,status,dateLastModified,vendorResourceId,title,roles,importance,vendorId,applicationId,metadata.exsis.licence
res-1,,,VR-1,Number line app,"student,teacher",primary,vendor-9,app-3,site
""",
    "results.csv": """\
sourcedId,status,dateLastModified,lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment,metadata.exsis.late
res-ana-1,,,li-1,usr-s1,fully graded,9,2026-10-10,Good work,false
""",
    "users.csv": """\
sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,metadata.exsis.house,metadata.exsis.lunch
usr-t1,,,true,org-s,teacher,mlee,{LDAP:mlee},Mei,Lee,,T-7001,mlee@example.org,,555-0170,,,,,
usr-a1,,,true,org-s,administrator,jchan,"{LDAP:jchan},{SIS:88}",Jun,Chan,,A-7001,jchan@example.org,,,,,,,
usr-aide,,,true,org-s,aide,kwong,,Ka,Wong,,,,,,,,,,
usr-s1,,,true,org-s,student,ana.diaz,,Ana,Diaz,Maria,S-7001,,,,"usr-g1,usr-g2",03,secret1,Red,yes
usr-s2,,,true,org-s,student,ben.ito,,Ben,Ito,,S-7002,,,,usr-g3,03,,Blue,no
usr-g1,,,true,org-s,parent,carla.diaz,,Carla,Diaz,,G-7011,carla@example.org,555-0171,,usr-s1,,,,
usr-g2,,,true,org-s,relative,dan.diaz,,Dan,Diaz,,,,,555-0172,usr-s1,,,,
usr-g3,,,false,org-s,guardian,emi.ito,,Emi,Ito,,G-7013,,,555-0173,usr-s2,,,,
""",
}


def test_a_bundle_from_another_system_imports_cleanly_and_says_what_it_did_not_read(tmp_path: Path) -> None:
    for name, text in BUNDLE.items():
        mark = "\ufeff" if name == "users.csv" else ""  # as a spreadsheet saves UTF-8
        (tmp_path / name).write_bytes((mark + text.replace("\n", "\r\n")).encode())
    found = read_roster(tmp_path, "2133099007")
    assert isinstance(found, RosterFile) and found.whole
    ana, ben = found.children
    assert (ana.child_id, ana.given_name, ana.family_name, ana.home_class, ana.homeroom_teacher_id) == (
        "S-7001", "Ana", "Diaz", "3A", "T-7001"
    )  # fmt: skip
    assert [g.guardian_id for g in ana.guardians] == ["G-7011", "usr-g2"]
    assert (ben.starts_on, ben.ends_on, ben.birth_date, ben.sex) == ("2026-12-07", None, "2018-07-02", "male")
    assert [(s.staff_id, s.role) for s in found.staff] == [("T-7001", "teacher"), ("A-7001", "admin")]
    assert found.ignored[: len(IGNORED)] == IGNORED
    assert found.ignored[len(IGNORED) :] == (
        "categories.csv, lineItems.csv, resources.csv, results.csv: in the bundle, not read",
        "academicSessions.csv columns metadata.exsis.code: not read (the exporting system's own, not OneRoster's)",
        "orgs.csv columns metadata.exsis.region: not read (the exporting system's own, not OneRoster's)",
        "courses.csv columns metadata.exsis.credits: not read (the exporting system's own, not OneRoster's)",
        "classes.csv columns metadata.exsis.room: not read (the exporting system's own, not OneRoster's)",
        "users.csv columns metadata.exsis.house, metadata.exsis.lunch: not read (the exporting system's own, not"
        " OneRoster's)",
        "enrollments.csv columns metadata.exsis.seat: not read (the exporting system's own, not OneRoster's)",
        "demographics.csv columns metadata.exsis.verified: not read (the exporting system's own, not OneRoster's)",
    )
