from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BanksConfig(AppConfig):
    name = "banks"
    verbose_name = _("Banks")

    def ready(self):
        from enterprises.models import register_bank_link

        from .imports import register_kinds
        from .models import BankAssignment
        from .timeline import register_sources

        register_kinds()
        register_bank_link(BankAssignment, "assigned")
        register_sources()
