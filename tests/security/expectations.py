"""Who may call each endpoint, and one well-formed request to call it with: the table the matrix is checked against.

Every APIRoute of the app must have an entry (the matrix fails naming any that has none), so a new endpoint cannot
be added without saying who may call it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from tests.support import png

GATE, TEACHER, DUTY, ADMIN, REGULATOR = "gate", "teacher", "duty_leader", "admin", "regulator"
PROVINCE = "province_regulator"
ROLES = (GATE, TEACHER, DUTY, ADMIN, REGULATOR, PROVINCE)
STAFF = frozenset({GATE, TEACHER, DUTY, ADMIN})
RECORDS = frozenset({DUTY, ADMIN})
PUBLIC = frozenset(ROLES)

DAY = "2026-11-30"
PATH_VALUES = {
    "school_id": "S1",
    "district_id": "D1",
    "child_id": "C1",
    "day": DAY,
    "term_id": "2026-27",
    "guardian_id": "G1",
    "person_id": "P9",
    "class_code": "T1",
    "incident_id": "I1",
    "place_code": "T1",
    "message_id": "M1",
    "staff_id": "t1",
}
ROSTER_CSV = (
    "child_id,given_name,family_name,sex,home_class,grade,homeroom_teacher_id,"
    "guardian1_name,guardian1_relation,guardian1_phone\n"
    "C7,Mei,Wang,female,3-1,3,t1,Li Wang,parent,13800000007\n"
)


@dataclass(frozen=True)
class Expect:
    """The roles allowed on an endpoint (for their own school or district), and a well-formed request."""

    allowed: frozenset[str]
    body: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    public: bool = False
    """No token needed: anyone gets the answer (liveness, metrics, the way to the sign-in page)."""
    postgres: bool = False
    """Needs PostgreSQL (the views, exports): checked against a running server with the projector."""
    district: bool = False
    """Scoped to a district rather than a school."""
    device: bool = True
    """The body is a command's, with the device fields (a search is a read sent as POST, without them)."""
    refusals: frozenset[str] = frozenset()
    """Codes a public endpoint answers a well-formed request with when its own credentials fail (sign-in)."""


def allowed(*roles: str, **request: Any) -> Expect:
    return Expect(frozenset(roles), **request)


def view(*roles: str, **request: Any) -> Expect:
    return Expect(frozenset(roles), postgres=True, **request)


CHILD = "/api/v1/schools/{school_id}/children/{child_id}"
SCHOOL = "/api/v1/schools/{school_id}"
ENROLMENT = CHILD + "/enrolments/{term_id}"
INCIDENT = SCHOOL + "/incidents/{incident_id}"
REASON = {"reason": "wrong record"}
WHEN = {"at": "2026-11-30T16:45:00+08:00"}
EXPORT = {"day_from": DAY, "day_to": DAY, "reason": "督导检查 inspection"}

EXPECTATIONS: dict[tuple[str, str], Expect] = {
    # custody of one child
    ("POST", CHILD + "/check-in"): allowed(TEACHER, DUTY, body={"place_code": "T1"}),
    ("POST", CHILD + "/transfer"): allowed(GATE, TEACHER, DUTY, body={"to_custodian_id": "t2", "to_place_code": "T2"}),
    ("POST", CHILD + "/guardian-arrival"): allowed(
        GATE, TEACHER, DUTY, body={"guardian_id": "G1", "verification": "id_document"}
    ),
    ("POST", CHILD + "/confirmation"): allowed(
        GATE,
        TEACHER,
        DUTY,
        body={"guardian_id": "G1", "guardian_recognised_child": True, "child_recognised_guardian": True},
    ),
    ("POST", CHILD + "/release"): allowed(GATE, TEACHER, DUTY, body={"guardian_id": "G1"}),
    ("POST", SCHOOL + "/pickups"): allowed(GATE, TEACHER, DUTY, body={"pickup_code": "1234"}),
    ("POST", SCHOOL + "/devices"): allowed(ADMIN, body={}),
    ("PUT", SCHOOL + "/staff/{staff_id}/pin"): allowed(GATE, TEACHER, DUTY, ADMIN, body={"pin": "480516"}),
    ("POST", SCHOOL + "/sign-in"): Expect(
        PUBLIC,
        public=True,
        refusals=frozenset({"device_not_enrolled"}),
        body={"device_secret": "x" * 43, "staff_id": "t1", "pin": "480516"},
    ),
    ("POST", CHILD + "/absence"): allowed(TEACHER, DUTY, ADMIN, body={"reason": "ill"}),
    ("GET", CHILD + "/days/{day}"): allowed(*STAFF),
    ("POST", CHILD + "/days/{day}/correction"): allowed(DUTY, ADMIN, body=REASON),
    ("POST", CHILD + "/pickup-code-unlock"): allowed(DUTY, body=REASON),
    ("POST", CHILD + "/confirmation-review"): allowed(DUTY, body={"guardian_id": "G1", **REASON}),
    # guardians, flags and erasure
    ("POST", CHILD + "/guardians"): allowed(
        ADMIN, body={"guardian_id": "G3", "relation": "aunt", "pickup_code": "4071"}
    ),
    ("POST", CHILD + "/guardians/{guardian_id}/revocation"): allowed(ADMIN, body=REASON),
    ("PUT", CHILD + "/guardians/{guardian_id}/pickup-code"): allowed(ADMIN, body={"pickup_code": "2497"}),
    ("PUT", CHILD + "/self-release"): allowed(ADMIN, body={"not_before": "17:00:00"}),
    ("POST", CHILD + "/flags"): allowed(ADMIN, body={"person_id": "P9", "reason": "court order"}),
    ("POST", CHILD + "/flags/{person_id}/lift"): allowed(ADMIN, body=REASON),
    ("POST", CHILD + "/erasure"): allowed(ADMIN, body={"reason": "left the school"}),
    # photos for the release screen: an admin stores them, staff see them
    ("PUT", CHILD + "/photo"): allowed(ADMIN, body={"photo": png()}),
    ("PUT", CHILD + "/guardians/{guardian_id}/photo"): allowed(ADMIN, body={"photo": png()}),
    ("GET", CHILD + "/photo"): allowed(*STAFF),
    ("GET", CHILD + "/guardians/{guardian_id}/photo"): allowed(*STAFF),
    # roster and enrolment
    ("GET", CHILD): allowed(*STAFF),
    ("GET", ENROLMENT): allowed(TEACHER, DUTY, ADMIN),
    ("POST", ENROLMENT + "/application"): allowed(
        TEACHER, ADMIN, body={"guardian_id": "G1", "days": ["mon"], "release_batch": "B1"}
    ),
    ("POST", ENROLMENT + "/class-review"): allowed(TEACHER, ADMIN, body={"approved": True}),
    ("POST", ENROLMENT + "/school-review"): allowed(ADMIN, body={"approved": True}),
    ("POST", ENROLMENT + "/arrangement"): allowed(ADMIN, body={"temporary_class": "T1"}),
    ("POST", ENROLMENT + "/agreement"): allowed(
        ADMIN,
        body={"signed_by": "G1", "authorised_guardians": ["G1"], "starts_on": "2026-09-01", "ends_on": "2027-06-30"},
    ),
    ("POST", ENROLMENT + "/withdrawal"): allowed(TEACHER, ADMIN, body={"reason": "moved away"}),
    ("POST", SCHOOL + "/roster"): allowed(ADMIN, body={"csv": ROSTER_CSV}),
    # the school's set-up: places, staff and their tokens
    ("POST", SCHOOL + "/places"): allowed(
        ADMIN, body={"place_code": "R9", "kind": "classroom", "label_zh": "9教室", "label_en": "Room 9"}
    ),
    ("POST", SCHOOL + "/staff"): allowed(ADMIN, body={"staff_id": "g9", "role": "gate"}),
    ("POST", SCHOOL + "/staff/{staff_id}/tokens"): allowed(ADMIN, body={"days": 1}),
    # planning the term and the day
    ("POST", SCHOOL + "/terms/{term_id}/classes"): allowed(ADMIN, body={"teachers": ["t1"], "venues": ["T1"]}),
    ("POST", SCHOOL + "/terms/{term_id}/classes/{class_code}/children"): allowed(ADMIN, body={"child_id": "C1"}),
    ("GET", SCHOOL + "/terms/{term_id}/coverage"): allowed(ADMIN),
    ("POST", SCHOOL + "/days/{day}/opening"): allowed(
        DUTY, ADMIN, body={"duty_leaders": ["d1", "d2"], "guards": ["g1", "g2"]}
    ),
    ("POST", SCHOOL + "/days/{day}/closing"): allowed(DUTY, ADMIN, body={}),
    ("POST", SCHOOL + "/emergency"): allowed(DUTY, body={"reunification_point": "GATE", "reason": "fire drill"}),
    ("POST", SCHOOL + "/emergency/end"): allowed(DUTY, body={"reason": "drill over"}),
    ("GET", SCHOOL + "/emergency/roll"): allowed(*STAFF),
    # incidents, headcounts and duty rounds
    ("POST", SCHOOL + "/incidents"): allowed(*STAFF, body={"kind": "other", "summary": "a window is broken"}),
    ("POST", INCIDENT + "/notes"): allowed(*STAFF, body={"note": "glass swept up"}),
    ("POST", INCIDENT + "/notifications"): allowed(
        *STAFF, body={"child_id": "C1", "guardian_id": "G1", "channel": "phone", "reached": True}
    ),
    ("POST", INCIDENT + "/escalation"): allowed(*STAFF, body={"to": "principal", "reason": "damage"}),
    ("POST", INCIDENT + "/links"): allowed(*STAFF, body={"children": ["C1"]}),
    ("POST", INCIDENT + "/resolution"): allowed(DUTY, ADMIN, body={"outcome": "repaired"}),
    ("GET", SCHOOL + "/incidents"): allowed(TEACHER, DUTY, ADMIN),
    ("GET", INCIDENT): allowed(TEACHER, DUTY, ADMIN),
    ("GET", INCIDENT + "/timeline"): allowed(TEACHER, DUTY, ADMIN),
    ("POST", SCHOOL + "/places/{place_code}/headcounts"): allowed(TEACHER, DUTY, body={"present": ["C1"]}),
    ("POST", SCHOOL + "/places/{place_code}/duty-rounds"): allowed(
        DUTY, body={"findings": "all quiet", "all_well": True}
    ),
    # replay, from the event log
    ("GET", SCHOOL + "/replay/state"): allowed(*RECORDS, query=WHEN),
    ("GET", SCHOOL + "/replay/children/{child_id}"): allowed(*RECORDS, query={"day": DAY}),
    ("GET", SCHOOL + "/replay/window"): allowed(*RECORDS, query=WHEN),
    ("GET", SCHOOL + "/replay/incidents/{incident_id}"): allowed(*RECORDS),
    # views, from PostgreSQL
    ("GET", SCHOOL + "/occupancy"): view(*STAFF),
    ("GET", SCHOOL + "/occupancy/children"): view(*STAFF),
    ("GET", SCHOOL + "/live"): view(*STAFF),
    ("GET", SCHOOL + "/children/{child_id}/timeline"): view(*STAFF),
    ("GET", SCHOOL + "/audit"): view(*RECORDS),
    ("GET", SCHOOL + "/attendance"): view(*RECORDS),
    ("GET", SCHOOL + "/attendance/classes"): view(*RECORDS),
    ("GET", SCHOOL + "/attendance/home-classes"): view(*RECORDS),
    ("GET", SCHOOL + "/supervision"): view(*RECORDS),
    ("GET", SCHOOL + "/supervision/entries"): view(*RECORDS),
    ("GET", SCHOOL + "/messages"): view(*RECORDS),
    ("GET", SCHOOL + "/messages/{message_id}"): view(*RECORDS),
    ("GET", "/api/v1/districts/{district_id}/summary"): Expect(
        frozenset({REGULATOR}), query={"from": DAY, "to": DAY}, postgres=True, district=True
    ),
    ("GET", SCHOOL + "/summary"): view(ADMIN, query={"from": DAY, "to": DAY}),
    ("GET", SCHOOL + "/disclosures"): view(ADMIN),
    ("GET", "/api/v1/districts/{district_id}/disclosures"): Expect(
        frozenset({REGULATOR}), postgres=True, district=True
    ),
    # the province view (省级汇总): counts from every shard, for the province's regulator only
    ("GET", "/api/v1/province/summary"): view(PROVINCE, query={"from": DAY, "to": DAY}),
    # audit exports (督导检查): a school's for its admins and its district's regulator, a district's for the regulator
    ("POST", SCHOOL + "/exports"): view(ADMIN, REGULATOR, body=EXPORT),
    ("POST", "/api/v1/districts/{district_id}/exports"): Expect(
        frozenset({REGULATOR}), body=EXPORT, postgres=True, district=True
    ),
    # the gate tablet's and the board's reads
    ("GET", SCHOOL + "/ui/school"): view(*STAFF),
    ("POST", SCHOOL + "/ui/children/search"): view(*STAFF, body={"q": "C1"}, device=False),
    ("GET", SCHOOL + "/ui/children/{child_id}"): view(*STAFF),
    ("GET", SCHOOL + "/ui/day"): view(*STAFF),
    ("GET", SCHOOL + "/ui/awaiting-pickup"): view(*STAFF),
    ("GET", SCHOOL + "/ui/on-site"): view(*STAFF),
    ("GET", SCHOOL + "/ui/dismissal"): view(*STAFF),
    ("GET", SCHOOL + "/ui/classes/{class_code}/roll"): view(*STAFF),
    ("GET", SCHOOL + "/ui/incidents"): view(TEACHER, DUTY, ADMIN),
    # open to anyone
    ("GET", "/health"): Expect(PUBLIC, public=True),
    ("GET", "/metrics"): Expect(PUBLIC, public=True),
    ("GET", "/"): Expect(PUBLIC, public=True),
    ("GET", "/api/v1/signing-keys"): Expect(PUBLIC, public=True, postgres=True),  # the key regulators pin
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def endpoints(app: FastAPI) -> Iterator[Endpoint]:
    """Every APIRoute × method of the app, including those of included routers."""
    for route in app.routes:
        if isinstance(route, APIRoute):
            yield from (Endpoint(method, route.path) for method in sorted(route.methods))
        elif hasattr(route, "effective_route_contexts"):  # FastAPI's included routers
            for context in route.effective_route_contexts():
                if isinstance(context.original_route, APIRoute):
                    yield from (Endpoint(method, context.path) for method in sorted(context.original_route.methods))


def url(endpoint: Endpoint, school: str = "S1", district: str = "D1") -> str:
    values = {**PATH_VALUES, "school_id": school, "district_id": district}
    return endpoint.path.format(**{name: values[name] for name in values if "{" + name + "}" in endpoint.path})
