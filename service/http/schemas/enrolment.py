"""API schemas of enrolment (家长申请 → 班级审核 → 学校复核 → 统筹安排), the safety agreement and withdrawal."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from service.http.schemas.common import CommandRequest, IsoDate, NoControlCharacters, Reason, Ref

Notes = Annotated[str, NoControlCharacters, StringConstraints(max_length=500, strip_whitespace=True)]
Remark = Annotated[str, NoControlCharacters, StringConstraints(max_length=300, strip_whitespace=True)]

Weekday = Literal["mon", "tue", "wed", "thu", "fri"]
Priority = Literal["disability", "left_behind", "migrant_worker_family", "financial_difficulty"]


class ApplicationRequest(CommandRequest):
    """A guardian's written application (家长申请), recorded by the school."""

    guardian_id: Ref
    days: Annotated[list[Weekday], Field(min_length=1, max_length=5)]
    release_batch: Ref
    self_release_requested: StrictBool = False
    priority: Annotated[list[Priority], Field(max_length=4, description="Sensitive: seen by admins only")] = []
    notes: Notes = ""


class ReviewRequest(CommandRequest):
    approved: StrictBool
    reason: Remark = ""


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
