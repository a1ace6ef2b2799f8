"""The dashboard refresh job: recompute stored results after imports and list rebuilds."""

from django.db import transaction
from django.utils.translation import gettext_lazy

from core.jobs import job_handler

from .snapshots import refresh_stale, warm_defaults

KIND = "dashboards.refresh"


@job_handler(
    KIND,
    label=gettext_lazy("Refresh dashboard figures"),
    # Recomputing figures is derived work like a list rebuild: it needs the screening right.
    action="screen",
    count_labels={
        "refreshed": gettext_lazy("Stored results recomputed"),
        "warmed": gettext_lazy("Landing dashboards prepared"),
    },
)
def refresh_job(job):
    """Recompute stale stored results, then each user region's landing dashboard."""
    return {"refreshed": refresh_stale(), "warmed": warm_defaults()}


def queue_refresh(*, user=None, region=None, **params):
    """Queue one refresh once the current transaction commits, unless one is already waiting:
    a queued refresh reads the data as it is when it starts, so a second would add nothing."""
    from core import jobs
    from core.choices import JobStatus
    from core.models import Job

    def enqueue():
        if Job.objects.filter(kind=KIND, status=JobStatus.QUEUED).exists():
            return
        with transaction.atomic():
            jobs.enqueue(KIND, user=user, region=region, params=params)

    transaction.on_commit(enqueue)


def refresh_after_import(sender, batch=None, **kwargs):
    """Imports change loans and credit data directly: refresh the figures."""
    queue_refresh(
        user=getattr(batch, "created_by", None),
        region=getattr(batch, "region", None),
        trigger="import",
        batch=getattr(batch, "pk", None),
    )


def refresh_after_rebuild(sender, job=None, region=None, **kwargs):
    """New current lists change the active and no-loan figures: refresh them."""
    queue_refresh(
        user=getattr(job, "created_by", None),
        region=region,
        trigger="screening",
        job=getattr(job, "pk", None),
    )
