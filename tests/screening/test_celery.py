"""The rebuild through a real Celery worker on Redis, a city fanned out per county."""

import time

import pytest
from django.db import transaction

from core import jobs
from core.choices import TERMINAL_STATES, JobStatus
from core.models import Job
from enterprises.models import Region
from screening.models import ScreeningRun
from tests.factories import LUCHENG_STREET, make_census, make_enterprise

from .helpers import members

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def wait_until(check, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_city_rebuild_runs_one_task_per_county_on_a_worker(redis_worker, regions):
    mine = make_enterprise()
    make_census(mine, census_year=2023)
    theirs = make_enterprise(region=LUCHENG_STREET)
    make_census(theirs, census_year=2023)
    with transaction.atomic():
        job = jobs.enqueue("screening.rebuild", region=Region.objects.get(code="330300"))
    # The job stays running while its county tasks work; the last one finishes it.
    wait_until(lambda: Job.objects.get(pk=job.pk).status in TERMINAL_STATES)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.progress_done, job.progress_total) == (12, 12)
    assert job.counts["runs"] == 12 and job.counts["active"] == 2
    assert ScreeningRun.objects.filter(is_current=True, status="succeeded").count() == 12
    # Finished lists queue one refresh of the stored dashboard figures.
    assert Job.objects.filter(kind="dashboards.refresh").exists()
    current = {r.region_id: r for r in ScreeningRun.objects.filter(is_current=True)}
    assert members(current["330326"], "active") == {mine.pk}
    assert members(current["330302"], "active") == {theirs.pk}
