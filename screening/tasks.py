"""Thin Celery wrappers: per-county runs of a fanned-out job, and the nightly rebuild."""

from celery import shared_task
from celery.schedules import crontab
from django.db.models import F

from config.celery import app

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
    """One county of a fanned-out job; the job's progress counts the finished counties."""
    from core.models import Job
    from enterprises.models import Region

    from . import services

    job = Job.objects.filter(pk=job_id).first() if job_id else None
    county = Region.objects.get(code=county_code)
    try:
        services.rebuild_region(county, user=job.created_by if job else None, job=job)
    except services.RunOverlap:
        pass  # the run in progress will produce this county's lists
    finally:
        if job_id:
            Job.objects.filter(pk=job_id).update(progress_done=F("progress_done") + 1)


@shared_task(name="screening.tasks.nightly_rebuild")
def nightly_rebuild():
    from core import jobs

    return jobs.enqueue("screening.rebuild", params={"trigger": "nightly"}).pk
