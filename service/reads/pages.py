"""Every read behind the staff pages, in one object for the routes: the gate and board reads, the dismissal queue,
the class roll call and the day's cards a gate tablet keeps."""

from __future__ import annotations

from service.reads.day_cards import DayCardsReads
from service.reads.dismissal import DismissalReads
from service.reads.roll_call import RollCallReads


class PageReads(DismissalReads, RollCallReads, DayCardsReads):
    """The staff pages' reads."""
