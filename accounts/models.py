from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import TokenProxy

from core.querysets import RestrictedQuerySet

from .choices import Role
from .scope import scope_for


class ScopedUserManager(UserManager.from_queryset(RestrictedQuerySet)):
    pass


class User(AbstractUser):
    """A person (or partner system) with one role, scoped to a region or a bank branch."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REGULATOR)
    region = models.ForeignKey(
        "enterprises.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("County or city for task-force staff, township for township workers."),
    )
    bank = models.ForeignKey(
        "banks.Bank",
        verbose_name=_("bank branch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("The branch a bank officer works for."),
    )
    api_scopes = models.CharField(
        _("API scopes"),
        max_length=200,
        blank=True,
        help_text=_("Partner systems only: comma-separated actions, e.g. view,report."),
    )

    objects = ScopedUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    @classmethod
    def scope_q(cls, scope):
        # Users are managed by administrators (scope "everything"); others reach only themselves.
        return Q(pk=scope.user_id)

    @cached_property
    def scope(self):
        return scope_for(self)

    @property
    def api_scope_list(self):
        return [s.strip() for s in self.api_scopes.split(",") if s.strip()]

    @property
    def display_name(self):
        return self.get_full_name() or self.username


class ApiToken(TokenProxy):
    """A partner system's API token (DRF's token), with the scoping rule for its admin page."""

    objects = models.Manager.from_queryset(RestrictedQuerySet)()

    class Meta:
        proxy = True
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return _("API token of {user}").format(user=self.user)

    @classmethod
    def scope_q(cls, scope):
        return Q(user_id=scope.user_id)
