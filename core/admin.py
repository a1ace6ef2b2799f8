from auditlog.models import LogEntry
from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from .models import Job, OfficialDay
from .writes import OutOfScope, in_scope, scoped_delete, scoped_save


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "region", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    readonly_fields = [field.name for field in Job._meta.fields]


class ScopedAdminMixin:
    """Admin pages read through ``restrict(user, "view")`` and write like every other door:
    in a transaction, re-checked against ``restrict(user, write_action)`` (core/writes.py)."""

    write_action = "change"

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or in_scope(request.user, self.write_action, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or in_scope(request.user, self.write_action, obj))

    def save_model(self, request, obj, form, change):
        def save():
            super(ScopedAdminMixin, self).save_model(request, obj, form, change)
            return obj

        scoped_save(request.user, self.write_action, save)

    def delete_model(self, request, obj):
        scoped_delete(request.user, self.write_action, obj)

    def delete_queryset(self, request, queryset):
        # Bulk delete: only rows the user may write, through Django's per-object signals
        # (so each deletion is in the change history).
        queryset.restrict(request.user, self.write_action).delete()

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except OutOfScope as exc:  # rolled back by the admin's own transaction
            self.message_user(request, exc.args[0], messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except OutOfScope as exc:
            self.message_user(request, exc.args[0], messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class HistoryAdminMixin:
    """Shows the record's change history under its admin change form."""

    change_form_template = "admin/core/change_form_with_history.html"


class CoordinationAdmin(HistoryAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The admin base of every CoordinationRecord: scoped writes and its history."""


# The history is evidence: readable by administrators, never added, changed or deleted.
admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class HistoryEntryAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "content_type", "object_repr", "action", "actor", "remote_addr"]
    list_filter = ["action", "content_type", "timestamp"]
    search_fields = ["object_repr", "actor__username"]
    list_select_related = ["content_type", "actor"]
    date_hierarchy = "timestamp"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.scope.everything


@admin.register(OfficialDay)
class OfficialDayAdmin(admin.ModelAdmin):
    list_display = ["day", "is_workday", "name"]
    list_filter = ["is_workday"]
    date_hierarchy = "day"
    search_fields = ["name"]
