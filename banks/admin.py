from django.contrib import admin

from core.admin import CoordinationAdmin

from .models import Bank, BankAssignment


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
