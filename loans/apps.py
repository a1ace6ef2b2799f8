from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoansConfig(AppConfig):
    name = "loans"
    verbose_name = _("Loans")

    def ready(self):
        from enterprises.models import register_bank_link

        from .imports import register_kinds
        from .models import CreditSnapshot, Loan
        from .timeline import register_sources

        register_kinds()
        register_bank_link(Loan, "borrowing")
        register_bank_link(CreditSnapshot, "credit")
        register_sources()
