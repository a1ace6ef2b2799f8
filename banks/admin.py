from django.contrib import admin

from core.admin import CoordinationAdmin

from .models import AllocationRules, AllocationRun, Bank, BankAssignment, BankFeedback, HandOff


@admin.register(Bank)
class BankAdmin(CoordinationAdmin):
    list_display = ["code", "name", "parent", "level", "capacity"]
    search_fields = ["code", "name"]
    list_filter = ["level"]


@admin.register(BankAssignment)
class BankAssignmentAdmin(CoordinationAdmin):
    list_display = ["enterprise", "bank", "role", "assigned_at"]
    raw_id_fields = ["enterprise"]
    write_action = "allocate"


@admin.register(AllocationRules)
class AllocationRulesAdmin(CoordinationAdmin):
    list_display = [
        "region",
        "prefer_existing_lender",
        "use_focus_areas",
        "feedback_working_days",
        "decision_days",
    ]
    write_action = "allocate"


@admin.register(BankFeedback)
class BankFeedbackAdmin(CoordinationAdmin):
    list_display = ["assignment", "status", "decline_reason", "feedback_on", "created_by"]
    list_filter = ["status", "decline_reason"]
    raw_id_fields = ["assignment"]
    write_action = "report"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the system writes (allocation runs, hand-offs): to read, never to edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AllocationRun)
class AllocationRunAdmin(ReadOnlyAdmin):
    list_display = ["region", "visit_batch", "created_by", "created_at"]


@admin.register(HandOff)
class HandOffAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "cause", "created_at"]
    list_filter = ["cause"]
