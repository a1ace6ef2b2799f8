from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        # Each app registers its job handlers in its own jobs.py.
        autodiscover_modules("jobs")
        # Every CoordinationRecord gets its change history with nothing to remember.
        from .history import register_tracked_models

        register_tracked_models()
        post_migrate.connect(_seed_official_days, sender=self)


def _seed_official_days(sender, using="default", **kwargs):
    # Every deployment gets the official calendar with its migrations: nothing to remember.
    from .workdays import seed_official_days

    seed_official_days()
