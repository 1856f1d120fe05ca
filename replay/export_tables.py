"""What an export bundle shows people: readable copies of events, three CSV tables and Ed-Fi attendance records.

Pseudonyms: child, guardian/person and staff ids become "C-", "G-" or "S-" and 12 hex digits of HMAC-SHA256 over
(kind, school, id) under a random key of one export, then forgotten: stable within a bundle, new in the next. Sealed
fields open only through `names` (export_bundle passes it only when not pseudonymising, only for children seen in
the chosen days). Pseudonymised copies drop command answers' response and request fingerprint and photo references
(all can reveal ids). Free text (reasons) is copied as written.

incidents.csv has one row per incident opened on a day in range, with the children linked later and its resolution
(when it came within the events exported); the incident's id is a record pseudonym, as in the events' copies.

CSV files have ONE header row of "中文 (English)" labels (every tool reads them as plain one-header CSV), in UTF-8
with a byte-order mark (Excel and WPS need it). Times are the school's local time (HH:MM:SS), days service days. The
tables come from the in-range events, never from views; a correction (CustodyCorrected) drops the row of the record
it voids and puts the child's attendance back as it was (the voided record stays in events.jsonl).

attendance.edfi.json: Ed-Fi StudentProgramAttendanceEvent resources (Data Standard 4/5 API names) with the required
attendanceEventCategoryDescriptor, eventDate, educationOrganizationReference, programReference, studentReference and
the optional programAttendanceDuration (minutes). Ed-Fi has arrivalTime/departureTime only on the school attendance
event, so they travel in the extension object "_ext": {"handoff": {...}}. educationOrganizationId is an integer in
Ed-Fi: a numeric school code is written as a number, any other code as its string (to be mapped before loading).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any
from uuid import UUID

from events.custody import ChildCheckedIn, ChildMarkedAbsent, ChildReleased, CustodyCorrected, ReleaseRefused
from events.incidents import IncidentLinked, IncidentOpened, IncidentResolved

SEALED, ERASED = "[sealed 已加密]", "已删除 (erased)"
KINDS = dict.fromkeys(["child_id", "children", "expected", "present", "missing", "extra"], "child")
PERSON = "guardian_id person_id signed_by authorised_guardians arrived_guardians confirmed_guardian_id released_to"
KINDS |= dict.fromkeys(PERSON.split(), "person")
STAFF = "actor_id staff_id custodian_id from_custodian_id to_custodian_id handed_over_by witness_id teacher_id staff"
KINDS |= dict.fromkeys([*STAFF.split(), "homeroom_teacher_id", "duty_leaders", "guards", "requested_by"], "staff")
KINDS |= {"guardians": "person", "incident_id": "record", "message_id": "record"}
PREFIX = {"child": "C-", "person": "G-", "staff": "S-", "record": "R-"}
NOT_PERSONAL = {"system", "policy", "policies", "notifier", "cli"}
OMITTED = {"originator_id", "originator_version", "timestamp", "idempotency_key", "token_hash", "pickup_code_hash"}
OMITTED |= {"request_fingerprint", "pin_hash", "secret_hash"}  # hashes of secrets and requests: no use to a reader,
# and guessable when short (a six-digit PIN most of all)
OMITTED_IF_PSEUDONYMISED = {
    *("response", "request_fingerprint", "photo_ref", "source", "about", "facts", "source_id", "modified", "people"),
}
"""Dropped from pseudonymised copies: they can name ids (a source or `about` names a stream, which a child's id and
day give away; facts name a guardian; source_id is the child's id in the school's records system, and modified and
people (RosterRowsApplied) are keyed by such ids, people mapping them to Handoff's); incident and
message ids, which a policy derives from such streams or from a child's id, are shown as record pseudonyms ("R-")."""
Row = list[Any]
Key = tuple[str, str, str]  # school, service day, child
Names = Callable[[str, str, str], "dict[str, Any] | None"]
"""(school id, child id, sealed token) -> the opened personal data, or None for an erased child."""
CATEGORY = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#"
PROGRAM_TYPE = "uri://ed-fi.org/ProgramTypeDescriptor#Extended Day/Child Care Services"
PROGRAM_NAME = "After-school service 课后服务"
HEAD = ["学校 (school)", "日期 (day)", "学生 (child)"]
ATTENDANCE = [*HEAD, "出勤 (status)", "签到时间 (checked in at)", "离校时间 (released at)", "离校方式 (released how)"]
RELEASES = [*HEAD, "时间 (time)", "接走人 (to guardian/self)", "交出教师 (by staff)", "授权版本 (auth. version)"]
REFUSALS = [*HEAD, "时间 (time)", "来人 (person)", "环节 (stage)", "原因 (reason)"]
INCIDENTS = [
    "学校 (school)",
    "日期 (day)",
    "事件 (incident)",
    "类型 (kind)",
    "开始时间 (opened at)",
    "涉及学生 (children)",
    "状态 (status)",
    "结束时间 (resolved at)",
    "结果 (outcome)",
]


class Pseudonyms:
    """Stable pseudonyms within one export (or the ids themselves when not enabled)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self._key = enabled, secrets.token_bytes(32)

    def __call__(self, kind: str, school_id: str, value: str) -> str:
        if not self.enabled or value in NOT_PERSONAL:
            return value
        digest = hmac.new(self._key, "\x1f".join((kind, school_id, value)).encode(), hashlib.sha256)
        return PREFIX[kind] + digest.hexdigest()[:12]


def readable(
    event: Any, school: str, alias: Pseudonyms, names: Names | None, stored: Collection[str] | None = None
) -> dict[str, Any]:
    """The event's readable copy: type, server time and its fields, ids shown through `alias`. `stored` names the
    fields its stored row holds: a field the event was stored without (an older shape, which an upcaster fills in
    when the event is read) is shown as null, as its leaf holds nothing for it, and not as derived."""
    copy: dict[str, Any] = {"type": type(event).__name__, "server_time": event.timestamp.isoformat()}
    hidden = OMITTED | (OMITTED_IF_PSEUDONYMISED if alias.enabled else set())
    for f in dataclasses.fields(event):
        if f.name not in hidden:
            kind, value = KINDS.get(f.name), getattr(event, f.name)
            if stored is not None and f.name not in stored:
                kind, value = None, None
            shown = [alias(kind, school, v) for v in value] if kind and isinstance(value, list) else value
            copy[f.name] = alias(kind, school, value) if kind and isinstance(value, str) else _plain(shown)
    if copy.get("sealed"):
        opened = names(school, event.child_id, event.sealed) if names else SEALED
        copy["sealed"] = ERASED if opened is None else opened
    return copy


def _plain(value: Any) -> Any:
    """JSON-ready: datetimes and dates as ISO 8601, UUIDs as hex, containers element by element."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return [_plain(item) for item in value] if isinstance(value, (list, tuple)) else value


@dataclass
class ChildDay:
    """One child's attendance on one service day, as that day's custody events tell it."""

    school_id: str
    day: str
    child: str
    zone: tzinfo
    status: str = "absent"
    arrived: datetime | None = None
    left: datetime | None = None
    how: str = ""

    def row(self) -> list[Any]:
        times = [_local(self.arrived, self.zone), _local(self.left, self.zone)]
        return [self.school_id, self.day, self.child, self.status, *times, self.how]


def write_tables(out: Path, events: Iterable[tuple[Any, tzinfo]], alias: Pseudonyms) -> dict[str, int]:
    """attendance.csv, releases.csv, refusals.csv, incidents.csv and attendance.edfi.json from in-range events in
    log order."""
    in_range = list(events)
    days, releases, refusals = _tabulate(in_range, alias)
    incidents = _incidents(in_range, alias)
    _write_csv(out / "attendance.csv", ATTENDANCE, [day.row() for day in days])
    _write_csv(out / "releases.csv", RELEASES, releases)
    _write_csv(out / "refusals.csv", REFUSALS, refusals)
    _write_csv(out / "incidents.csv", INCIDENTS, incidents)
    write_json(out / "attendance.edfi.json", [edfi_record(day) for day in days])
    counts = {"attendance": len(days), "releases": len(releases), "refusals": len(refusals)}
    return counts | {"incidents": len(incidents), "edfi_records": len(days)}


def _incidents(events: Iterable[tuple[Any, tzinfo]], alias: Pseudonyms) -> list[Row]:
    """A row of incidents.csv per incident opened in range: children linked later included, resolution if any."""
    rows: dict[tuple[str, str], Row] = {}
    for event, zone in events:
        school = event.school_id
        key = (school, getattr(event, "incident_id", ""))
        if isinstance(event, IncidentOpened):
            opened = _local(event.timestamp, zone)
            incident = alias("record", school, event.incident_id)
            rows[key] = [school, event.service_day, incident, event.kind, opened, [], "open", "", ""]
        if key not in rows:
            continue
        if isinstance(event, (IncidentOpened, IncidentLinked)):
            rows[key][5] += [alias("child", school, child) for child in event.children]
        elif isinstance(event, IncidentResolved):
            rows[key][6:] = ["resolved", _local(event.timestamp, zone), event.outcome]
    return [[*row[:5], ";".join(row[5]), *row[6:]] for row in rows.values()]


def _tabulate(events: Iterable[tuple[Any, tzinfo]], alias: Pseudonyms) -> tuple[list[ChildDay], list[Row], list[Row]]:
    days: dict[Key, ChildDay] = {}
    made: dict[tuple[Key, int], tuple[str, Row]] = {}  # release and refusal rows, by the event that made them
    for event, zone in events:
        key = (event.school_id, getattr(event, "service_day", ""), getattr(event, "child_id", ""))
        if isinstance(event, CustodyCorrected):
            made.pop((key, event.voids_version), None)
            _restore(days, key, event.status)
        elif isinstance(event, (ChildCheckedIn, ChildMarkedAbsent, ChildReleased)):
            day = days.setdefault(key, ChildDay(*key[:2], alias("child", event.school_id, event.child_id), zone))
            if isinstance(event, ChildCheckedIn):
                day.status, day.arrived = "present", day.arrived or event.timestamp
            elif isinstance(event, ChildReleased):
                day.left, day.how = event.timestamp, "self" if event.self_release else "guardian"
        if isinstance(event, (ChildReleased, ReleaseRefused)):
            made[key, event.originator_version] = _row(event, zone, alias)
    rows = {kind: [row for made_kind, row in made.values() if made_kind == kind] for kind in ("release", "refusal")}
    return list(days.values()), rows["release"], rows["refusal"]


def _restore(days: dict[Key, ChildDay], key: Key, status: str) -> None:
    """A correction puts the day back as it was before the voided record."""
    day = days.get(key)
    if day and status == "expected":
        del days[key]
    elif day and status in ("in_care", "absent"):
        day.left, day.how = None, ""
        day.status, day.arrived = ("present", day.arrived) if status == "in_care" else ("absent", None)


def _row(event: ChildReleased | ReleaseRefused, zone: tzinfo, alias: Pseudonyms) -> tuple[str, Row]:
    """A row of releases.csv or refusals.csv."""
    school = event.school_id
    when = [school, event.service_day, alias("child", school, event.child_id), _local(event.timestamp, zone)]
    if isinstance(event, ReleaseRefused):
        return "refusal", [*when, alias("person", school, event.guardian_id), event.stage, event.reason_code]
    to = "self" if event.guardian_id is None else alias("person", school, event.guardian_id)
    return "release", [*when, to, alias("staff", school, event.from_custodian_id), event.authorisation_version]


def _local(moment: datetime | None, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M:%S") if moment else ""


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Row]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def edfi_record(day: ChildDay) -> dict[str, Any]:
    """One Ed-Fi StudentProgramAttendanceEvent for a child's service day."""
    org = int(day.school_id) if day.school_id.isascii() and day.school_id.isdecimal() else day.school_id
    program = {"educationOrganizationId": org, "programName": PROGRAM_NAME, "programTypeDescriptor": PROGRAM_TYPE}
    record: dict[str, Any] = {
        "attendanceEventCategoryDescriptor": CATEGORY
        + ("In Attendance" if day.status == "present" else "Excused Absence"),
        "eventDate": day.day,
        "studentReference": {"studentUniqueId": day.child},
        "programReference": program,
        "educationOrganizationReference": {"educationOrganizationId": org},
    }
    if day.arrived and day.left:
        record["programAttendanceDuration"] = int((day.left - day.arrived).total_seconds() // 60)
    times = {"arrivalTime": _local(day.arrived, day.zone), "departureTime": _local(day.left, day.zone)}
    if any(times.values()):
        record["_ext"] = {"handoff": {name: value for name, value in times.items() if value}}
    return record


def write_json(path: Path, value: Any) -> None:
    """Indented UTF-8 JSON for people (events.jsonl alone is canonical, line by line)."""
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
