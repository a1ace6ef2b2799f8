"""Jobs: one runner records progress, success, failure and lost workers."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core import jobs
from core.choices import JobStatus
from core.models import Job

pytestmark = pytest.mark.django_db


@jobs.job_handler("tests.explode", label="explode")
def explode(job):
    job.report(done=1, total=4, force=True)
    raise RuntimeError("disk on fire")


def test_a_job_runs_in_process_without_redis_and_records_progress(cast):
    job = jobs.run_now("core.selfcheck", user=cast.staff, params={"steps": 3})
    assert job.status == JobStatus.SUCCEEDED
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert job.counts == {"steps": 3}
    assert job.started_at <= job.finished_at


def test_a_failing_job_is_recorded_with_its_error(cast):
    job = jobs.run_now("tests.explode", user=cast.staff)
    assert job.status == JobStatus.FAILED
    assert "disk on fire" in job.error
    assert job.progress_done == 1


def test_a_job_is_claimed_only_once(cast):
    job = jobs.run_now("core.selfcheck", user=cast.staff, params={"steps": 1})
    finished_at = job.finished_at
    jobs.execute(job.pk)  # a second delivery of the same task does nothing
    job.refresh_from_db()
    assert job.finished_at == finished_at


def test_a_job_whose_worker_died_is_shown_as_failed_and_can_run_again(client, cast):
    job = Job.objects.create(
        kind="core.selfcheck",
        created_by=cast.staff,
        params={"steps": 2},
        status=JobStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    client.force_login(cast.staff)
    client.get(reverse("core:job_list"))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error
    with pytest.MonkeyPatch.context():
        response = client.post(reverse("core:job_rerun", args=[job.pk]))
    new_job = Job.objects.exclude(pk=job.pk).get()
    assert response.status_code == 302
    assert new_job.rerun_of_id == job.pk
    assert new_job.params == {"steps": 2}


def test_progress_polling_stops_when_the_job_is_finished(client, cast):
    job = jobs.run_now("core.selfcheck", user=cast.staff, params={"steps": 1})
    client.force_login(cast.staff)
    response = client.get(reverse("core:job_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 286


def test_progress_polling_continues_while_running(client, cast):
    job = Job.objects.create(
        kind="core.selfcheck",
        created_by=cast.staff,
        status=JobStatus.RUNNING,
        heartbeat_at=timezone.now(),
        progress_done=5,
        progress_total=10,
    )
    client.force_login(cast.staff)
    response = client.get(reverse("core:job_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "50%" in response.content.decode()


def test_jobs_of_other_regions_are_invisible(client, cast):
    job = jobs.run_now("core.selfcheck", user=cast.outsider_staff, params={"steps": 1})
    client.force_login(cast.staff)
    assert client.get(reverse("core:job_detail", args=[job.pk])).status_code == 404
    assert client.get(f"/api/v1/jobs/{job.pk}/").status_code == 404


def test_regulator_cannot_rerun_a_job(client, cast):
    job = jobs.run_now("core.selfcheck", user=cast.regulator, params={"steps": 1})
    client.force_login(cast.regulator)
    assert client.post(reverse("core:job_rerun", args=[job.pk])).status_code == 403


def test_job_page_names_counts_in_the_users_language(client, cast):
    job = Job.objects.create(
        kind="import", created_by=cast.staff, counts={"read": 12, "errors": 1, "odd_key": 3}
    )
    client.force_login(cast.staff)
    page = client.get(reverse("core:job_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert "读取行数" in html and "错误行数" in html
    assert "odd_key" in html  # an unnamed key still shows, as it is


def test_a_detached_job_finishes_with_its_last_part(cast):
    job = Job.objects.create(kind="core.selfcheck", status=JobStatus.RUNNING, progress_total=2)
    assert not jobs.part_done(job.pk, counts={"active": 3})
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.progress_done == 1
    assert jobs.part_done(job.pk, counts={"active": 4}, problem="鹿城区: boom")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.counts == {"active": 7}
    assert "鹿城区: boom" in job.error and job.progress_done == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_seen_while_the_work_transaction_is_still_open(cast):
    from django.db import DEFAULT_DB_ALIAS, connections, transaction

    job = Job.objects.create(kind="core.selfcheck", status=JobStatus.RUNNING)
    progress = jobs.OutsideProgress(job)
    onlooker = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with transaction.atomic():
            Job.objects.create(kind="core.selfcheck")  # the work's own, uncommitted writes
            progress(2, 4, "Writing the lists", force=True)
            with onlooker.cursor() as cursor:
                cursor.execute("SELECT progress_done, step FROM core_job WHERE id = %s", [job.pk])
                assert cursor.fetchone() == (2, "Writing the lists")
                cursor.execute("SELECT count(*) FROM core_job")
                assert cursor.fetchone() == (1,)  # the work's writes are not visible yet
    finally:
        progress.close()
        onlooker.close()
