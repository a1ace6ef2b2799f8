"""Thin Celery wrappers around the job runner."""

from celery import shared_task

from . import history, jobs


@shared_task(name="core.tasks.run_job")
def run_job(job_id):
    with history.acting_for_job(job_id):  # its writes are the starter's in the history
        jobs.execute(job_id)


@shared_task(name="core.tasks.fail_stale_jobs")
def fail_stale_jobs():
    return jobs.fail_stale_jobs()


@shared_task(name="core.tasks.purge_idempotency_keys")
def purge_idempotency_keys():
    from .api.idempotency import purge_expired

    return purge_expired()
