from django.contrib import admin

from core.admin import CoordinationAdmin

from .models import Visit


@admin.register(Visit)
class VisitAdmin(CoordinationAdmin):
    """Visits for administrators: scoped reads, writes re-checked against ``visit``, history."""

    list_display = ["enterprise", "visited_on", "round", "method", "has_need", "status", "bank"]
    list_filter = ["status", "round", "method", "has_need"]
    search_fields = ["enterprise__name", "enterprise__uscc"]
    raw_id_fields = ["enterprise", "township_worker", "bank_officer", "created_by", "batch"]
    readonly_fields = ["client_key", "version", "created_at", "updated_at"]
    date_hierarchy = "visited_on"
    write_action = "visit"
