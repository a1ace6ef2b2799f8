"""A real Celery worker on Redis picks up a job and records its progress."""

import time

import pytest
from django.db import transaction

from core import jobs
from core.choices import JobStatus
from core.models import Job

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def wait_for(job, statuses, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job stayed {job.status}")


def test_a_worker_takes_a_job_from_queued_to_succeeded(redis_worker, regions):
    with transaction.atomic():
        job = jobs.enqueue("core.selfcheck", params={"steps": 5})
        assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    wait_for(job, {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert job.status == JobStatus.SUCCEEDED
    assert (job.progress_done, job.progress_total) == (5, 5)
    assert job.counts == {"steps": 5}
