from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = _("Visits")

    def ready(self):
        from . import (
            receivers,  # noqa: F401  (connects the visit_recorded receivers)
            recommendation_receivers,  # noqa: F401
        )
        from .imports import register_kinds
        from .timeline import register_sources

        register_kinds()
        register_sources()
