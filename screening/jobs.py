"""The screening job: rebuild the lists of a region (every county inside it)."""

from celery import current_app
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.jobs import JobError, job_handler

from . import services


@job_handler("screening.rebuild", label=gettext_lazy("Rebuild screening lists"), action="screen")
def rebuild_job(job):
    """One county: build it here. Several: one Celery task per county (a group), so more
    workers finish sooner; in-process (eager mode, CLI) the counties run one after another."""
    counties = services.counties_for(job.region)
    fan_out = job.params.get("fan_out", True) and len(counties) > 1
    if fan_out and not current_app.conf.task_always_eager:
        from celery import group

        from .tasks import rebuild_county

        job.report(
            done=0,
            total=len(counties),
            step=_("Dispatched {n} county runs").format(n=len(counties)),
            force=True,
        )
        group(rebuild_county.s(c.code, job.pk) for c in counties).apply_async()
        return {"counties": len(counties), "dispatched": len(counties)}
    runs, problems = services.rebuild(job.region, user=job.created_by, job=job)
    counts = {"counties": len(counties), "runs": len(runs)}
    for run in runs:
        for key in ("active", "no_loan", "key_visit", "entered", "left"):
            counts[key] = counts.get(key, 0) + run.counts.get(key, 0)
    if problems:
        job.counts = {**job.counts, **counts}
        raise JobError("; ".join(problems))
    return counts
