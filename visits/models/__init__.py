"""The visits app's models: field visits and their follow-ups, coordination items, and the
application list → five standards → recommendation list (推荐清单)."""

from .items import CoordinationItem
from .recommendations import (
    Application,
    Recommendation,
    RecommendationBatch,
    RecommendationRules,
)
from .visits import Campaign, DueVisit, Visit

__all__ = [
    "Application",
    "Campaign",
    "CoordinationItem",
    "DueVisit",
    "Recommendation",
    "RecommendationBatch",
    "RecommendationRules",
    "Visit",
]
