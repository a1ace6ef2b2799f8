from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .scope import scope_for


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

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    @cached_property
    def scope(self):
        return scope_for(self)

    @property
    def api_scope_list(self):
        return [s.strip() for s in self.api_scopes.split(",") if s.strip()]

    @property
    def display_name(self):
        return self.get_full_name() or self.username
