"""API schemas of what the pages show: the school and place cards, child search, the gate card, children awaiting
pickup, the on-site series, open incidents."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from service.application.views import CustodyView
from service.http.schemas.common import NoControlCharacters, Request


class PlaceCard(BaseModel):
    code: str
    kind: str
    label_zh: str
    label_en: str


class SchoolCard(BaseModel):
    school_id: str
    name: str
    time_zone: str
    service_day: date
    server_time: datetime
    places: list[PlaceCard]
    adults: list[str]
    emergency: bool
    reunification_point: str | None
    staff_id: str
    role: str
    incident_kinds: list[str] = Field(description="The kinds of incident the school records, in order")


class ChildSearch(Request):
    q: Annotated[str, NoControlCharacters, StringConstraints(max_length=40)] = Field(
        description="Part of a name, number or class"
    )


class ChildFound(BaseModel):
    child_id: str
    name: str | None
    home_class: str | None
    home_class_name: str | None = Field(None, description="The home class as people say it, e.g. 三年级（2）班")
    grade: int | None
    temporary_class: str | None
    status: str
    place_code: str | None
    custodian_id: str | None


class ChildrenFound(BaseModel):
    items: list[ChildFound]
    more: bool = Field(default=False, description="More children matched than the 20 shown: type more of the name")


class KeptGuardian(BaseModel):
    guardian_id: str
    relation: str
    authorised_today: bool
    has_photo: bool


class GuardianCard(KeptGuardian):
    name: str | None


class KeptCard(BaseModel):
    """A gate card as the tablet keeps it on the device: no name of the child or of any guardian."""

    child_id: str
    has_photo: bool = Field(description="A photo of the child is stored (GET …/children/{child}/photo)")
    home_class: str
    grade: int
    custody: CustodyView
    temporary_class: str | None = Field(description="The child's temporary class this term (check-in default)")
    pickup_code_attempts_left: int = Field(description="Wrong pickup codes left before code entry locks; 0 locked")
    guardians: list[KeptGuardian]
    self_release_not_before: str | None


class GateCard(KeptCard):
    name: str | None
    guardians: list[GuardianCard]  # type: ignore[assignment]


class DayCards(BaseModel):
    service_day: date
    items: list[KeptCard]


class AwaitingChild(BaseModel):
    child_id: str
    name: str | None
    home_class: str | None
    temporary_class: str | None
    place_code: str | None
    custodian_id: str | None
    guardian_arrived: bool
    confirmed: bool
    batch_ends_at: time | None
    late: bool


class AwaitingPickup(BaseModel):
    service_day: date
    items: list[AwaitingChild]


class SeriesPoint(BaseModel):
    at: datetime
    on_site: int


class OnSiteSeries(BaseModel):
    service_day: date
    starts: datetime
    ends: datetime
    points: list[SeriesPoint]


class OpenIncident(BaseModel):
    incident_id: str
    kind: str
    summary: str = Field(description="As recorded: a policy's words in English, or what staff wrote")
    children: list[str]
    opened_at: datetime
    origin: Literal["refusal", "headcount", "late_sweep", "gate_limit", "staff"] = Field(
        description="What opened it: the page words a policy's incident in its own language, staff words as written"
    )
    attempts: list[str] = Field(description="Reason codes of the refused pickup attempts grouped into it, in order")
    urgent: bool = Field(description="A missing child: listed first and told apart at a glance")


class OpenIncidents(BaseModel):
    service_day: date
    items: list[OpenIncident]


class WaitingChild(BaseModel):
    child_id: str
    name: str | None
    custodian_id: str | None
    place_code: str | None
    guardian_id: str
    guardian_name: str | None
    relation: str | None
    confirmed: bool
    child_photo: bool = Field(description="A photo of the child is stored (GET …/children/{child}/photo)")
    guardian_photo: bool = Field(description="A photo of this guardian is stored, under the child")
    arrived_at: datetime | None


class DismissalQueue(BaseModel):
    service_day: date
    release_points: list[str] = Field(description="The school's gate places, where children are released")
    release_adults: list[str] = Field(description="Adults with children at a release point now, most children first")
    items: list[WaitingChild] = Field(description="One per child and guardian at the gate, oldest arrival first")


class RollChild(BaseModel):
    child_id: str
    name: str | None
    status: str = Field(description="expected, in_care, released or absent today")
    custodian_id: str | None
    place_code: str | None


class ClassRoll(BaseModel):
    service_day: date
    class_code: str
    items: list[RollChild]
