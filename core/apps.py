from django.apps import AppConfig
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
