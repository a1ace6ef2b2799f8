from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = _("Screening")

    def ready(self):
        from enterprises.signals import batch_applied

        from . import jobs  # noqa: F401  (registers the job handler)
        from .signals import rebuild_after_import
        from .timeline import register_sources

        batch_applied.connect(rebuild_after_import, dispatch_uid="screening.rebuild_after_import")
        register_sources()
