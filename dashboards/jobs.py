"""The dashboard refresh job: recompute stored results after an import changed the data."""

from django.utils.translation import gettext_lazy as _lazy

from core.jobs import job_handler

from .snapshots import refresh_stale, warm_defaults


@job_handler("dashboards.refresh", label=_lazy("Refresh dashboard figures"), action="view")
def refresh_job(job):
    """Recompute stale stored results, then each user region's landing dashboard."""
    return {"refreshed": refresh_stale(), "warmed": warm_defaults()}


def refresh_after_import(sender, batch=None, **kwargs):
    from django.conf import settings
    from django.db import transaction

    if not settings.IS_POSTGRES:
        return  # dashboards are computed by PostgreSQL only (see views.index)

    from core import jobs

    transaction.on_commit(
        lambda: jobs.enqueue(
            "dashboards.refresh",
            user=getattr(batch, "created_by", None),
            region=getattr(batch, "region", None),
            params={"trigger": "import", "batch": getattr(batch, "pk", None)},
        )
    )
