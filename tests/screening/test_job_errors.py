"""A county whose run fails: users read a plain message, administrators the log."""

import pytest

from core import jobs
from enterprises.models import Region
from tests.factories import PINGYANG

pytestmark = pytest.mark.django_db


def test_a_failing_county_tells_users_no_exception_text(regions, monkeypatch):
    from screening.services import runs

    def explode(*args, **kwargs):
        raise RuntimeError('relation "secret" does not exist LINE 1: SELECT')

    monkeypatch.setattr(runs, "rebuild_region", explode)
    job = jobs.run_now("screening.rebuild", region=Region.objects.get(code=PINGYANG))
    assert job.status == "failed"
    assert job.error == "平阳县：因内部错误，名单未能重建。"
    assert 'RuntimeError: relation "secret" does not exist' in job.log  # for administrators


def test_a_failing_county_task_keeps_its_traceback_for_administrators(regions, monkeypatch):
    from core.models import Job
    from screening import services, tasks

    def explode(*args, **kwargs):
        raise RuntimeError("LINE 1: SELECT secret")

    monkeypatch.setattr(services, "rebuild_region", explode)
    job = Job.objects.create(kind="screening.rebuild", status="running", progress_total=1)
    tasks.rebuild_county(PINGYANG, job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "平阳县：因内部错误，名单未能重建。")
    assert "RuntimeError: LINE 1: SELECT secret" in job.traceback
