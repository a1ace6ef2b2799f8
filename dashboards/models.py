from django.db import models
from django.utils.translation import gettext_lazy as _


class DataVersion(models.Model):
    """One row whose counter moves (in the writer's transaction) whenever dashboard data changes.

    Bumped by post_save/post_delete of loans, credit snapshots, enterprises, regions, banks and
    list memberships; bulk imports and screening rebuilds are caught by the import batches'
    ``applied_at`` and the current screening runs, which are part of the version too.
    """

    counter = models.BigIntegerField(_("counter"), default=0)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("dashboard data version")
        verbose_name_plural = _("dashboard data versions")

    def __str__(self):
        return str(self.counter)


class StatsSnapshot(models.Model):
    """A computed dashboard result, valid only while the data version it was computed at holds."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    version = models.CharField(_("data version"), max_length=200)
    payload = models.JSONField(_("payload"))
    spec = models.JSONField(
        _("parameters"), default=dict, blank=True, help_text=_("Scope and parameters, to refresh.")
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("dashboard snapshot")
        verbose_name_plural = _("dashboard snapshots")

    def __str__(self):
        return f"{self.key[:12]} @ {self.version}"
