"""The rebuild through a real Celery worker on Redis, a city fanned out per county."""

import time

import pytest
from django.db import transaction

from core import jobs
from core.choices import JobStatus
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
    wait_until(
        lambda: ScreeningRun.objects.filter(is_current=True, status="succeeded").count() == 12
    )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.counts["dispatched"] == 12
    current = {r.region_id: r for r in ScreeningRun.objects.filter(is_current=True)}
    assert members(current["330326"], "active") == {mine.pk}
    assert members(current["330302"], "active") == {theirs.pk}
