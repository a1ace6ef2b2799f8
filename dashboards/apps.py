from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self):
        from enterprises.signals import batch_applied

        from .jobs import refresh_after_import, refresh_after_rebuild
        from .snapshots import bump

        batch_applied.connect(refresh_after_import, dispatch_uid="dashboards.refresh_after_import")
        try:
            from screening.signals import lists_rebuilt
        except ImportError:  # pragma: no cover  (screening is an optional neighbour)
            pass
        else:
            lists_rebuilt.connect(
                refresh_after_rebuild, dispatch_uid="dashboards.refresh_after_rebuild"
            )

        watched = [
            "loans.Loan",
            "loans.CreditSnapshot",
            "enterprises.Enterprise",
            "enterprises.Region",
            "banks.Bank",
            "banks.BankAssignment",
            "screening.ListMembership",
            "screening.ScreeningRun",
            # the figures of visits, recommendations, credit and the bank ranking
            "visits.Visit",
            "visits.Recommendation",
            "loans.CreditApproval",
            "banks.BankFeedback",
            "banks.HandOff",
        ]
        for label in watched:
            try:
                model = self.apps.get_model(label)
            except LookupError:
                continue
            for signal in (post_save, post_delete):
                signal.connect(bump, sender=model, dispatch_uid=f"dashboards.bump.{label}")
