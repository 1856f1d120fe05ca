"""The term's applicants and places, the temporary classes (临时班) of a term, and the service day's rota."""

from __future__ import annotations

from events.envelope import HandoffEvent


class ApplicantListed(HandoffEvent):
    """A child applied for the term: listed so that the school can see every applicant (愿留尽留)."""

    term_id: str
    child_id: str


class PlaceTaken(HandoffEvent):
    """The school approved a child, who takes one of the term's places."""

    term_id: str
    child_id: str


class PlaceGivenUp(HandoffEvent):
    """An approved child was withdrawn: their place is free again."""

    term_id: str
    child_id: str


class TemporaryClassEvent(HandoffEvent):
    """An event of one temporary class's stream."""

    term_id: str
    class_code: str


class TemporaryClassFormed(TemporaryClassEvent):
    """A temporary class of the term was formed by the schools' rule, with its teacher and venue."""

    teacher_id: str
    venue: str
    children: list[str]
    how: str
    """own_class, merged_in_grade or merged_grades: the step of the rule that formed it."""


class ChildMovedIntoClass(TemporaryClassEvent):
    """An admin moved a child into this class by hand."""

    child_id: str


class ChildMovedOutOfClass(TemporaryClassEvent):
    """An admin moved a child out of this class by hand."""

    child_id: str


class ClassTeacherAssigned(TemporaryClassEvent):
    """The class has a new temporary-class teacher (临时班主任)."""

    teacher_id: str


class ServiceDayOpened(HandoffEvent):
    """The day's after-school service opened, with its duty rota: two duty leaders and two guards."""

    service_day: str
    duty_leaders: list[str]
    guards: list[str]


class ServiceDayClosed(HandoffEvent):
    """The day's after-school service closed: every child who came was released or is covered by an incident."""

    service_day: str


class EmergencyModeEntered(HandoffEvent):
    """A duty leader put the school into emergency mode (应急预案): children are reunited at a reunification point."""

    service_day: str
    reunification_point: str
    reason: str


class EmergencyModeLeft(HandoffEvent):
    """The emergency is over: the normal flow resumes."""

    service_day: str
    reason: str
