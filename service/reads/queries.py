"""The read side as the API offers it: every view, filtered and paginated, for the roles allowed to see it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from projections import disclosures, district, occupancy, occupancy_queries, timeline
from projections.base import ReadModel
from service.application.context import Actor
from service.application.handoff import Handoff
from service.reads.readside import ReadSide
from service.reads.witnessed import last_witnessed


class Views:
    """Queries over the live read models; each checks the caller's role and school first."""

    def __init__(self, handoff: Handoff, read: ReadSide) -> None:
        self.handoff, self.read = handoff, read

    def service_day(self, school_id: str, day: date | None) -> date:
        """The given day, or today on the school's own calendar."""
        return day or self.handoff.school(school_id).service_day(self.handoff.clock())

    def occupancy(self, actor: Actor, school_id: str, day: date | None) -> dict[str, Any]:
        """Who is on site now, by place, for one school."""
        actor.require("read_occupancy", school_id)
        return self.occupancy_snapshot(school_id, day)

    def occupancy_snapshot(self, school_id: str, day: date | None) -> dict[str, Any]:
        """The occupancy summary with no role check: for live streams, whose callers were checked when they opened."""
        on = self.service_day(school_id, day)
        found = self.read.query(occupancy.occupancy, occupancy_queries.summary, school_id, on, self.handoff.clock())
        return {"school_id": school_id, "service_day": on, **found}

    def occupancy_children(
        self, actor: Actor, school_id: str, day: date | None, filters: dict[str, Any], limit: int, offset: int
    ) -> dict[str, Any]:
        """The children of one school and day, with their custodian and place."""
        actor.require("read_occupancy", school_id)
        on = self.service_day(school_id, day)
        rows = self.read.query(
            occupancy.occupancy, occupancy_queries.children, school_id, on, **filters, limit=limit, offset=offset
        )
        return {"school_id": school_id, "service_day": on, "limit": limit, "offset": offset, "items": rows}

    def rows(
        self,
        actor: Actor,
        action: str,
        school_id: str,
        model: ReadModel,
        read: Callable[..., list[dict[str, Any]]],
        day: date | None,
        **filters: Any,
    ) -> dict[str, Any]:
        """One page of a school's read model for one day, after the role check for `action`."""
        actor.require(action, school_id)
        on = self.service_day(school_id, day)
        items = self.read.query(model, read, school_id, on, **filters)
        return {"school_id": school_id, "service_day": on, "items": items, **_page(filters)}

    def child_timeline(self, actor: Actor, school_id: str, child_id: str, day: date | None) -> dict[str, Any]:
        """A child's day from the timeline view; an unknown child is 404, as for the child's day itself."""
        actor.require("read_child_day", school_id)
        self.handoff.roster_entry(school_id, child_id)
        return self.rows(actor, "read_child_day", school_id, timeline.timeline, timeline.child_day, day, child=child_id)

    def district_summary(
        self, actor: Actor, district_id: str, day_from: date, day_to: date, school_id: str | None
    ) -> dict[str, Any]:
        """Counts per school and day in one district, for its regulator: nothing personal."""
        actor.require_district("read_district", district_id)
        items = self.read.query(district.district, district.summary, district_id, day_from, day_to, school_id)
        schools = self.read.query(district.district, district.schools_of, district_id)
        schools = [found for found in schools if school_id in (None, found)]
        witnessed = self.read.query(district.district, last_witnessed, schools)
        return {"district_id": district_id, "day_from": day_from, "day_to": day_to, "schools": schools, "items": items,
                "witnessed": witnessed}  # fmt: skip

    def school_summary(self, actor: Actor, school_id: str, day_from: date, day_to: date) -> dict[str, Any]:
        """The district summary's counts for one school, for that school's admin."""
        actor.require("read_school_summary", school_id)
        district_id = self.handoff.school(school_id).district_id
        items = self.read.query(district.district, district.summary, district_id, day_from, day_to, school_id)
        return {
            "district_id": district_id,
            "day_from": day_from,
            "day_to": day_to,
            "schools": [school_id],
            "items": items,
        }

    def school_disclosures(self, actor: Actor, school_id: str, limit: int, offset: int) -> dict[str, Any]:
        """Who exported the school's records, when, why and which days, newest first."""
        actor.require("read_disclosures", school_id)
        items = self.read.query(disclosures.disclosures, disclosures.of_school, school_id, limit, offset)
        return {"scope": school_id, "limit": limit, "offset": offset, "items": items}

    def district_disclosures(self, actor: Actor, district_id: str, limit: int, offset: int) -> dict[str, Any]:
        """Every export that covered a school of the district, newest first, for its regulator."""
        actor.require_district("read_district_disclosures", district_id)
        items = self.read.query(disclosures.disclosures, disclosures.of_district, district_id, limit, offset)
        return {"scope": district_id, "limit": limit, "offset": offset, "items": items}


def _page(filters: dict[str, Any]) -> dict[str, Any]:
    return {key: filters[key] for key in ("limit", "offset") if key in filters}
