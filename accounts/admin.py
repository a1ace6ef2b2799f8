from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from core.admin import HistoryAdminMixin, ScopedAdminMixin

from .models import ApiToken, User


@admin.register(User)
class UserAdmin(HistoryAdminMixin, ScopedAdminMixin, BaseUserAdmin):
    list_display = ["username", "first_name", "role", "region", "bank", "is_active"]
    list_filter = ["role", "is_active"]
    autocomplete_fields = ["bank"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Role and scope"), {"fields": ["role", "region", "bank", "api_scopes"]}),
    ]


# DRF's token admin, on the scoped proxy: same page, scoped writes and the change history.
admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(HistoryAdminMixin, ScopedAdminMixin, TokenAdmin):
    pass
