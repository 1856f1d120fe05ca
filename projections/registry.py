"""Every read model the projector keeps live."""

from __future__ import annotations

from projections.base import ReadModel
from projections.occupancy import occupancy

READ_MODELS: dict[str, ReadModel] = {model.name: model for model in (occupancy,)}
