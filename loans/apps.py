from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoansConfig(AppConfig):
    name = "loans"
    verbose_name = _("Loans")

    def ready(self):
        from banks.panels import register_attention_panel, register_workspace_panel
        from enterprises.models import register_bank_link
        from enterprises.signals import batch_applied

        from .imports import register_kinds
        from .models import CreditSnapshot, Loan
        from .panels import attention_panel, workspace_panel
        from .services.stages import recompute_after_import
        from .timeline import register_sources

        register_kinds()
        register_bank_link(Loan, "borrowing")
        register_bank_link(CreditSnapshot, "credit")
        batch_applied.connect(recompute_after_import, dispatch_uid="loans.recompute_after_import")
        register_workspace_panel("loans", "loans/_workspace_panel.html", workspace_panel)
        register_attention_panel("loans", "loans/_attention_panel.html", attention_panel)
        register_sources()
