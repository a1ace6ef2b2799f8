from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "enterprises"
    verbose_name = _("Enterprises")

    def ready(self):
        from core.signals import jobs_lost

        from .imports import register_kinds
        from .services.uploads import settle_batches_of_lost_jobs
        from .timeline import register_sources

        register_kinds()
        register_sources()
        jobs_lost.connect(settle_batches_of_lost_jobs, dispatch_uid="import-batches-of-lost-jobs")
