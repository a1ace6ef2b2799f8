"""One staleness rule for jobs and for the screening runs they drive (core.jobs.stale_q)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core import jobs
from core.models import Job
from enterprises.models import Region
from screening.models import ScreeningRun
from screening.services import RunOverlap, rebuild
from tests.factories import PINGYANG

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(hours=3)


def running_job(silent_for):
    then = timezone.now() - silent_for
    return Job.objects.create(
        kind="screening.rebuild", status="running", started_at=then, heartbeat_at=then
    )


def running_run(job, started_ago):
    return ScreeningRun.objects.create(
        region=Region.objects.get(code=PINGYANG),
        status="running",
        job=job,
        started_at=timezone.now() - started_ago,
    )


def test_a_run_whose_job_went_silent_no_longer_blocks_a_rebuild(regions, settings):
    settings.JOB_STALE_AFTER_SECONDS = 600
    lost = running_run(running_job(silent_for=timedelta(seconds=601)), started_ago=timedelta(0))
    runs, problems = rebuild(Region.objects.get(code=PINGYANG))
    assert problems == [] and len(runs) == 1
    lost.refresh_from_db()
    assert lost.status == "failed"


def test_a_run_whose_job_still_reports_blocks_however_long_it_has_run(regions, settings):
    settings.JOB_STALE_AFTER_SECONDS = 600
    job = running_job(silent_for=timedelta(seconds=30))
    running_run(job, started_ago=LONG_AGO)
    runs, problems = rebuild(Region.objects.get(code=PINGYANG))
    assert runs == [] and len(problems) == 1 and "#" in problems[0]


def test_a_run_with_no_job_is_lost_when_it_started_that_long_ago(regions, settings):
    settings.JOB_STALE_AFTER_SECONDS = 600
    running_run(None, started_ago=timedelta(seconds=601))
    assert len(rebuild(Region.objects.get(code=PINGYANG))[0]) == 1


def test_a_run_with_no_job_started_recently_blocks(regions, settings):
    settings.JOB_STALE_AFTER_SECONDS = 600
    running_run(None, started_ago=timedelta(seconds=60))
    from screening.services import rebuild_region

    with pytest.raises(RunOverlap):
        rebuild_region(Region.objects.get(code=PINGYANG))


def test_jobs_and_runs_follow_the_same_setting(regions, settings):
    settings.JOB_STALE_AFTER_SECONDS = 60
    job = running_job(silent_for=timedelta(seconds=61))
    run = running_run(job, started_ago=timedelta(seconds=61))
    assert set(ScreeningRun.objects.filter(jobs.stale_q("job__"))) == {run}
    assert jobs.fail_stale_jobs() == 1
    settings.JOB_STALE_AFTER_SECONDS = 600
    running_job(silent_for=timedelta(seconds=61))
    assert jobs.fail_stale_jobs() == 0
