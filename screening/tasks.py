"""Thin Celery wrappers: per-county runs of a fanned-out job, and the nightly rebuild."""

import logging
import traceback

from celery import shared_task
from celery.schedules import crontab

from config.celery import app

logger = logging.getLogger(__name__)

# Nightly full rebuild at 02:30 (CELERY_TIMEZONE), after the evening imports.
app.conf.beat_schedule = {
    **(app.conf.beat_schedule or {}),
    "screening-nightly-rebuild": {
        "task": "screening.tasks.nightly_rebuild",
        "schedule": crontab(hour=2, minute=30),
    },
}


@shared_task(name="screening.tasks.rebuild_county")
def rebuild_county(county_code, job_id=None):
    """One county of a fanned-out job; the last county to finish finishes the job."""
    from core import jobs
    from core.models import Job
    from enterprises.models import Region

    from . import services
    from .jobs import run_counts
    from .signals import lists_rebuilt

    job = Job.objects.filter(pk=job_id).first() if job_id else None
    county = Region.objects.get(code=county_code)
    runs, problem, trace = [], "", ""
    try:
        runs.append(services.rebuild_region(county, user=job.created_by if job else None, job=job))
    except services.RunOverlap as exc:
        problem = str(exc)
    except Exception:  # the run is already recorded as failed
        trace = traceback.format_exc()
        logger.exception("the screening run of %s failed", county.code)
        problem = services.failed_message(county)
    if job is not None and jobs.part_done(
        job.pk, counts=run_counts(runs), problem=problem, trace=trace
    ):
        lists_rebuilt.send(sender=rebuild_county, job=job, region=job.region)


@shared_task(name="screening.tasks.nightly_rebuild")
def nightly_rebuild():
    from core import jobs

    return jobs.enqueue("screening.rebuild", params={"trigger": "nightly"}).pk
