"""Every read model the projector keeps live."""

from __future__ import annotations

from projections.attendance import attendance
from projections.audit import audit
from projections.base import ReadModel
from projections.disclosures import disclosures
from projections.district import district
from projections.incidents import incidents
from projections.occupancy import occupancy
from projections.outbox import outbox
from projections.supervision import supervision
from projections.timeline import timeline

READ_MODELS: dict[str, ReadModel] = {
    model.name: model
    for model in (occupancy, timeline, audit, attendance, supervision, district, outbox, incidents, disclosures)
}
