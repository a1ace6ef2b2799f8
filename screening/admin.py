from django.contrib import admin

from core.admin import CoordinationAdmin

from .models import RuleSet, ScreeningRun


@admin.register(RuleSet)
class RuleSetAdmin(CoordinationAdmin):
    """Rule sets are versioned: change one with "Save as new" under a higher version number,
    so each run keeps pointing at the rules it used."""

    list_display = [
        "version",
        "name",
        "is_active",
        "tier1_min_score",
        "tier2_min_score",
        "key_visit_min_score",
        "batch_size",
        "created_at",
    ]
    list_filter = ["is_active"]
    save_as = True
    write_action = "screen"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.runs.exists():
            # Already used by a run: only "in use" may change; save as a new version instead.
            return [f.name for f in obj._meta.fields if f.name not in ("is_active", "id")]
        return []

    def save_model(self, request, obj, form, change):
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ScreeningRun)
class ScreeningRunAdmin(admin.ModelAdmin):
    list_display = ["id", "region", "status", "is_current", "rule_set", "started_at", "finished_at"]
    list_filter = ["status", "is_current"]
    readonly_fields = [f for f in ("counts", "error")]
    raw_id_fields = ["region", "previous", "job", "rule_set", "created_by"]
