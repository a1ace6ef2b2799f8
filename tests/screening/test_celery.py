"""The rebuild through a real Celery worker on Redis, a city fanned out per county."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from config.celery import app as celery_app
from core import jobs
from core.choices import JobStatus
from enterprises.models import Region
from screening.models import ScreeningRun
from tests.factories import LUCHENG_STREET, make_census, make_enterprise

from .helpers import members

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_worker(settings):
    celery_app.conf.update(task_always_eager=False, broker_url=settings.REDIS_URL)
    with start_worker(
        celery_app, perform_ping_check=False, pool="solo", loglevel="WARNING", shutdown_timeout=10
    ):
        yield
    celery_app.conf.update(
        task_always_eager=settings.CELERY_TASK_ALWAYS_EAGER, broker_url=settings.CELERY_BROKER_URL
    )


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
