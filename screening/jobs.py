"""The screening job: rebuild the lists of a region (every county inside it)."""

from celery import current_app
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from core.jobs import DETACHED, JobError, job_handler

from . import services
from .signals import lists_rebuilt

SUMMED_COUNTS = ("active", "no_loan", "key_visit", "entered", "left")


def run_counts(runs):
    """The job-level counts of finished county runs."""
    counts = {"runs": len(runs)}
    for run in runs:
        for key in SUMMED_COUNTS:
            counts[key] = counts.get(key, 0) + run.counts.get(key, 0)
    return counts


@job_handler(
    "screening.rebuild",
    label=gettext_lazy("Rebuild screening lists"),
    action="screen",
    count_labels={
        "counties": gettext_lazy("Counties"),
        "runs": gettext_lazy("Runs finished"),
        "active": gettext_lazy("Active entities"),
        "no_loan": gettext_lazy("No-loan entities"),
        "key_visit": gettext_lazy("Key visit list"),
        "entered": gettext_lazy("Entered a list"),
        "left": gettext_lazy("Left a list"),
    },
)
def rebuild_job(job):
    """One county: build it here. Several: one Celery task per county (a group), so more
    workers finish sooner; the job stays running until the last county task finishes it.
    In-process (eager mode, CLI) the counties run one after another."""
    counties = services.counties_for(job.region)
    fan_out = job.params.get("fan_out", True) and len(counties) > 1
    if fan_out and not current_app.conf.task_always_eager:
        from celery import group, signature

        job.counts = {"counties": len(counties)}
        job.report(
            done=0,
            total=len(counties),
            step=format_lazy(gettext_lazy("Dispatched {n} county runs"), n=len(counties)),
            counts=job.counts,
            force=True,
        )
        # The task by name: the job does not import its own tasks module (no cycle).
        group(
            signature("screening.tasks.rebuild_county", args=(c.code, job.pk)) for c in counties
        ).apply_async()
        return DETACHED
    runs, problems = services.rebuild(job.region, user=job.created_by, job=job)
    counts = {"counties": len(counties), **run_counts(runs)}
    if runs:
        lists_rebuilt.send(sender=rebuild_job, job=job, region=job.region)
    if problems:
        job.counts = {**job.counts, **counts}
        raise JobError("; ".join(problems))
    return counts
