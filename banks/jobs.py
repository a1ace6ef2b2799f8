"""The allocation job: lead and backup banks for a region's key-visit list or a visit batch."""

from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.jobs import JobError, job_handler

from .models import VisitBatch
from .services.allocation import allocate
from .services.handoff import hand_off


@job_handler(
    "banks.allocate",
    label=gettext_lazy("Allocate banks"),
    action="allocate",
    count_labels={
        "counties": gettext_lazy("Counties"),
        "placed": gettext_lazy("Enterprises placed"),
        "unplaced": gettext_lazy("Enterprises not placed"),
        "paired": gettext_lazy("Paired with a township worker"),
    },
)
def allocate_job(job):
    """Each county of the job's region in turn (a visit batch: its own county only)."""
    from screening.services import counties_for

    batch_id = job.params.get("batch")
    batch = VisitBatch.objects.filter(pk=batch_id).first() if batch_id else None
    if batch_id and batch is None:
        raise JobError(_("The visit batch no longer exists."))
    counties = [batch.region] if batch else counties_for(job.region)
    counts = {"counties": len(counties), "placed": 0, "unplaced": 0, "paired": 0}
    for number, county in enumerate(counties, start=1):

        def progress(done, total, step, county=county, number=number):
            job.report(
                done=(number - 1) * total + done,
                total=len(counties) * total,
                step=format_lazy("{county} · {step}", county=county.name, step=step),
            )

        run = allocate(county, visit_batch=batch, user=job.created_by, job=job, progress=progress)
        for key in ("placed", "unplaced", "paired"):
            counts[key] += run.summary[key]
    return counts


@job_handler(
    "banks.hand_off",
    label=gettext_lazy("Hand overdue and declined enterprises to the backup bank"),
    action="allocate",
    count_labels={
        "handed_off": gettext_lazy("Handed to the backup bank"),
        "ended": gettext_lazy("Declined or overdue at both banks"),
    },
)
def hand_off_job(job):
    """The daily run (Celery beat); ``params["today"]`` (ISO date) replays a given day."""
    from datetime import date

    today = date.fromisoformat(job.params["today"]) if job.params.get("today") else None
    return hand_off(today)
