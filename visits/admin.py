from django.contrib import admin

from core.admin import CoordinationAdmin

from .models import Campaign, CoordinationItem, DueVisit, Visit


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


@admin.register(CoordinationItem)
class CoordinationItemAdmin(CoordinationAdmin):
    list_display = ["enterprise", "problem", "status", "level", "owner_department", "owner_bank"]
    list_filter = ["status", "level", "problem"]
    search_fields = ["enterprise__name", "enterprise__uscc", "owner_department"]
    raw_id_fields = ["enterprise", "visit", "owner", "batch"]
    readonly_fields = ["version", "created_by", "created_at", "escalated_at", "resolved_at"]
    write_action = "visit"


@admin.register(Campaign)
class CampaignAdmin(CoordinationAdmin):
    list_display = ["name", "region", "round", "due_on", "created_by", "created_at"]
    readonly_fields = ["created_by", "created_at"]
    write_action = "change"


@admin.register(DueVisit)
class DueVisitAdmin(admin.ModelAdmin):
    """Due visits are written by visits and campaigns: read here, never edited."""

    list_display = ["enterprise", "due_on", "round", "reason", "campaign", "done_by"]
    list_filter = ["reason", "round"]
    raw_id_fields = ["enterprise", "source_visit", "campaign", "done_by"]
    list_select_related = ["enterprise", "campaign"]

    def get_queryset(self, request):
        return DueVisit.objects.restrict(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


from . import recommendation_admin  # noqa: E402, F401  (the application list and recommendations)
