"""Admin of the application list, recommendations, their batches and the per-county rules."""

from django.contrib import admin

from core.admin import CoordinationAdmin

from .models import Application, Recommendation, RecommendationBatch, RecommendationRules


@admin.register(Application)
class ApplicationAdmin(CoordinationAdmin):
    list_display = [
        "enterprise",
        "status",
        "need_amount",
        "checked_by",
        "approved_by",
        "created_at",
    ]
    list_filter = ["status"]
    raw_id_fields = ["enterprise", "visit"]
    search_fields = ["enterprise__name", "enterprise__uscc"]
    write_action = "change"


@admin.register(RecommendationBatch)
class RecommendationBatchAdmin(CoordinationAdmin):
    list_display = ["batch_no", "bank", "region", "pushed_on", "pushed_by"]
    write_action = "change"


@admin.register(Recommendation)
class RecommendationAdmin(CoordinationAdmin):
    list_display = ["enterprise", "bank", "recommended_on", "batch_no", "need_amount"]
    list_filter = ["recommended_on"]
    raw_id_fields = ["enterprise", "application", "push", "batch"]
    search_fields = ["enterprise__name", "enterprise__uscc"]
    write_action = "change"


@admin.register(RecommendationRules)
class RecommendationRulesAdmin(CoordinationAdmin):
    list_display = ["region", "min_months_established"]
    write_action = "change"
