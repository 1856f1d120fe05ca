"""API schemas, one per direction. They are not stored events: requests are validated here, then passed on."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
"""An id of a school, child, staff member, guardian or place: letters, digits, _ . - (at most 64)."""
PickupCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,8}$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=60, strip_whitespace=True)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{5,19}$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri"]
Priority = Literal["disability", "left_behind", "migrant_worker_family", "financial_difficulty"]
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,128}$"


def _iso_8601(value: object) -> object:
    """Dates and instants are written YYYY-MM-DD…; pydantic alone would also read a number as seconds since 1970."""
    if isinstance(value, date) or (isinstance(value, str) and re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)):
        return value
    raise ValueError("write it in ISO 8601, e.g. 2026-11-30 or 2026-11-30T16:30:00+08:00")


IsoDate = Annotated[date, BeforeValidator(_iso_8601)]
IsoInstant = Annotated[AwareDatetime, BeforeValidator(_iso_8601)]


class Request(BaseModel):
    """Every request rejects unknown fields."""

    model_config = ConfigDict(extra="forbid")


class CommandRequest(Request):
    """Every command says which device sent it and when, by the device's clock."""

    device_id: Ref
    device_time: IsoInstant = Field(description="The device's clock when the action happened, with its offset")


class CheckInRequest(CommandRequest):
    place_code: Ref = Field(description="Temporary class or venue the child is checked in to")
    custodian_id: Ref | None = Field(
        default=None, description="Adult who takes the child; the acting staff member if omitted"
    )
    handed_over_by: Ref | None = Field(default=None, description="Homeroom teacher handing the child over")


class TransferRequest(CommandRequest):
    to_custodian_id: Ref = Field(description="The adult who takes the child over")
    to_place_code: Ref = Field(description="Where the child goes")


class GuardianArrivalRequest(CommandRequest):
    guardian_id: Ref
    verification: Literal["pickup_code", "id_document"]
    pickup_code: PickupCode | None = None

    @model_validator(mode="after")
    def _code_goes_with_pickup_code_check(self) -> GuardianArrivalRequest:
        if (self.verification == "pickup_code") != (self.pickup_code is not None):
            raise ValueError("give pickup_code exactly when verification is pickup_code")
        return self


class ConfirmationRequest(CommandRequest):
    guardian_id: Ref
    guardian_recognised_child: StrictBool
    child_recognised_guardian: StrictBool


class ReleaseRequest(CommandRequest):
    guardian_id: Ref | None = Field(default=None, description="The confirmed guardian the child leaves with")
    self_release: StrictBool = Field(default=False, description="The child leaves alone, as the agreement allows")

    @model_validator(mode="after")
    def _guardian_or_self_release(self) -> ReleaseRequest:
        if (self.guardian_id is None) != self.self_release:
            raise ValueError("give either guardian_id or self_release: true")
        return self


class AbsenceRequest(CommandRequest):
    reason: Reason


class CorrectionRequest(CommandRequest):
    """Why the latest record was a mistake (it stays in the log, marked as corrected)."""

    reason: Reason


class GuardianAuthorisationRequest(CommandRequest):
    guardian_id: Ref
    relation: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    pickup_code: PickupCode
    valid_from: IsoDate | None = None
    valid_until: IsoDate | None = None
    name: Name | None = Field(default=None, description="Sealed with the child's key; never stored in clear")
    phone: Phone | None = Field(default=None, description="Sealed with the child's key; never stored in clear")
    photo_ref: Ref | None = Field(default=None, description="Reference to the photo in the school's photo store")


class PickupCodeRequest(CommandRequest):
    pickup_code: PickupCode


class GuardianRevocationRequest(CommandRequest):
    reason: Reason


class SelfReleaseRequest(CommandRequest):
    not_before: time | None = Field(description="Local time from which the child may leave alone; null withdraws it")


class Refusal(BaseModel):
    code: str
    message: str


class CustodyView(BaseModel):
    school_id: str
    child_id: str
    service_day: date
    status: Literal["expected", "in_care", "released", "absent"]
    custodian_id: str | None
    place_code: str | None
    arrived_guardians: list[str]
    confirmed_guardian_id: str | None
    released_to: str | None
    self_released: bool
    version: int
    corrected: list[int] = Field(default=[], description="Versions of records voided by a correction")
    code_entry_locked: bool = Field(default=False, description="Pickup-code entry locked after repeated wrong codes")


class CommandResponse(BaseModel):
    outcome: Literal["recorded", "refused"] = Field(description="refused: a release refusal was recorded")
    refusal: Refusal | None
    recorded: list[str] = Field(description="Types of the events recorded")
    custody: CustodyView
    replayed: bool = Field(description="True when this is the stored answer to an earlier request with the same key")


class HistoryEntry(BaseModel):
    type: str
    version: int
    server_time: str
    device_time: str
    actor_id: str
    actor_role: str
    device_id: str
    details: dict[str, object]


class ChildDayResponse(BaseModel):
    custody: CustodyView
    history: list[HistoryEntry]


class GuardianEntry(BaseModel):
    guardian_id: str
    relation: str
    valid_from: date | None
    valid_until: date | None


class GuardiansResponse(BaseModel):
    child_id: str
    authorisation_version: int
    guardians: list[GuardianEntry]
    flagged: list[str] = Field(description="People who must never collect the child")
    self_release_not_before: str | None
    replayed: bool


class ErrorResponse(BaseModel):
    code: str = Field(description="Stable machine code")
    message: str = Field(description="What was wrong, in plain words")


class PlaceOccupancy(BaseModel):
    place_code: str | None
    kind: str | None
    label_zh: str | None
    label_en: str | None
    in_care: int
    guardian_arrived: int
    confirmed: int
    custodians: list[str | None]


class ClassOccupancy(BaseModel):
    temporary_class: str | None
    expected: int = Field(description="Enrolled, with a signed agreement covering today and today among their days")
    present: int
    absent: int
    not_seen: int
    in_care: int


class OccupancyResponse(BaseModel):
    school_id: str
    service_day: date
    on_roster: int
    expected: int = Field(description="Children enrolled for today (agreement signed, today among their days)")
    expected_not_seen: int = Field(description="Expected today, neither checked in nor marked absent")
    checked_in: int
    in_care: int
    guardian_arrived: int = Field(description="In care, with a guardian already at the gate")
    confirmed: int
    released: int
    absent: int
    not_seen: int = Field(description="On the roster, neither checked in nor marked absent")
    waiting_after_end: int = Field(description="Still in care after the school's service has ended")
    waiting_after_batch: int = Field(description="Still in care after their release batch has ended")
    places: list[PlaceOccupancy]
    classes: list[ClassOccupancy]


class OccupancyChild(BaseModel):
    child_id: str
    home_class: str | None
    grade: int | None
    status: str
    custodian_id: str | None
    place_code: str | None
    guardian_arrived: bool
    confirmed: bool
    checked_in_at: datetime | None
    released_at: datetime | None
    released_to: str | None
    changed_at: datetime


class Page(BaseModel):
    school_id: str
    service_day: date
    limit: int
    offset: int


class OccupancyChildrenResponse(Page):
    items: list[OccupancyChild]


class RowsResponse(BaseModel):
    """One page of a read model's rows for one school and day."""

    school_id: str
    service_day: date
    limit: int | None = None
    offset: int | None = None
    items: list[dict[str, Any]]


class DistrictSummaryResponse(BaseModel):
    district_id: str
    day_from: date
    day_to: date
    items: list[dict[str, Any]] = Field(description="Per school and day: counts only, nothing personal")


class ApplicationRequest(CommandRequest):
    """A guardian's written application (家长申请), recorded by the school."""

    guardian_id: Ref
    days: Annotated[list[Weekday], Field(min_length=1, max_length=5)]
    release_batch: Ref
    self_release_requested: StrictBool = False
    priority: Annotated[list[Priority], Field(max_length=4, description="Sensitive: seen by admins only")] = []
    notes: Annotated[str, StringConstraints(max_length=500)] = ""


class ReviewRequest(CommandRequest):
    approved: StrictBool
    reason: Annotated[str, StringConstraints(max_length=300)] = ""


class ArrangementRequest(CommandRequest):
    temporary_class: Ref


class AgreementRequest(CommandRequest):
    """The signed safety responsibility agreement (安全责任书)."""

    signed_by: Ref
    authorised_guardians: Annotated[list[Ref], Field(max_length=10)]
    leave_alone_from: time | None = None
    starts_on: IsoDate
    ends_on: IsoDate


class WithdrawalRequest(CommandRequest):
    reason: Reason


class FlagRequest(CommandRequest):
    person_id: Ref
    reason: Reason
    name: Name | None = None


class FormClassesRequest(CommandRequest):
    teachers: Annotated[list[Ref], Field(min_length=1, max_length=100)]
    venues: Annotated[list[Ref], Field(min_length=1, max_length=100)]


class MoveChildRequest(CommandRequest):
    child_id: Ref


class DayOpeningRequest(CommandRequest):
    duty_leaders: Annotated[list[Ref], Field(min_length=2, max_length=2)]
    guards: Annotated[list[Ref], Field(min_length=2, max_length=2)]


class AgreementView(BaseModel):
    signed_by: str
    authorised_guardians: list[str]
    leave_alone_from: str | None
    starts_on: str
    ends_on: str


class EnrolmentResponse(BaseModel):
    child_id: str
    term_id: str
    stage: str
    days: list[str]
    release_batch: str | None
    self_release_requested: bool
    temporary_class: str | None
    reason: str | None
    agreement: AgreementView | None
    priority: dict[str, Any] | None = Field(description="Admins only: priority categories and notes, or erased")
    replayed: bool | None = None


class ChildCardResponse(BaseModel):
    child_id: str
    home_class: str
    grade: int
    homeroom_teacher_id: str | None
    name: str | None
    erased: bool


class PlainAnswer(BaseModel):
    """The answer to a planning or erasure command."""

    model_config = ConfigDict(extra="allow")
    replayed: bool


class RosterUpload(CommandRequest):
    """The device fields of a roster upload, given as query parameters (the body is the file)."""

    def with_file(self, data: bytes) -> UploadedRoster:
        """The command, with the file's hash, so that a key reused for another file is refused."""
        return UploadedRoster(
            device_id=self.device_id, device_time=self.device_time, sha256=hashlib.sha256(data).hexdigest()
        )


class UploadedRoster(CommandRequest):
    sha256: str


class EmergencyRequest(CommandRequest):
    """Switch to emergency mode (应急预案): where children are reunited with their guardians, and why."""

    reunification_point: Ref
    reason: Reason
