"""Every read behind the staff pages, in one object for the routes: the gate and board reads, the dismissal queue
and the class roll call."""

from __future__ import annotations

from service.reads.dismissal import DismissalReads
from service.reads.roll_call import RollCallReads


class PageReads(DismissalReads, RollCallReads):
    """The staff pages' reads."""
