"""Jobs: one runner records progress, success, failure, its log and lost workers."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from core import jobs, worker
from core.choices import JobStatus
from core.models import Job
from enterprises.models import Region
from tests.factories import PINGYANG_TOWN, make_user

pytestmark = pytest.mark.django_db


@jobs.job_handler("tests.explode", label="explode", action="change")
def explode(job):
    job.report(done=1, total=4, step="Reading the disk", force=True)
    raise RuntimeError("disk on fire: SELECT secret FROM core_job")


def test_a_job_runs_in_process_without_redis_and_records_progress(cast):
    job = jobs.run_now("core.selfcheck", user=cast.staff, params={"steps": 3})
    assert job.status == JobStatus.SUCCEEDED
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert job.counts == {"steps": 3}
    assert job.started_at <= job.finished_at


def test_a_failing_job_keeps_its_log_and_traceback_and_tells_users_only_a_plain_message(
    client, cast
):
    job = jobs.run_now("tests.explode", user=cast.staff)
    assert job.status == JobStatus.FAILED
    assert job.progress_done == 1
    assert "disk on fire" not in job.error  # the exception's text can hold SQL or data
    # Stored in the default language, like every job message.
    assert job.error == "任务因内部错误而中止。请稍后重新运行；如果再次失败，请联系系统管理员。"
    assert "Traceback (most recent call last)" in job.traceback
    assert "RuntimeError: disk on fire" in job.traceback
    assert "Reading the disk" in job.log  # each step is a line of the log

    client.force_login(cast.staff)
    page = client.get(reverse("core:job_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert "内部错误" in html
    assert "disk on fire" not in html and "SELECT" not in html and "Traceback" not in html
    assert 'id="job-log"' not in html
    data = client.get(f"/api/v1/jobs/{job.pk}/").json()
    assert "traceback" not in data and "log" not in data
    assert data["error"] == job.error

    client.force_login(cast.admin)
    for url in (
        reverse("core:job_detail", args=[job.pk]),
        reverse("core:job_progress", args=[job.pk]),
    ):
        html = client.get(url).content.decode()
        assert 'id="job-traceback"' in html and "RuntimeError: disk on fire" in html
        assert 'id="job-log"' in html and "Reading the disk" in html


def test_a_job_error_meant_for_users_is_shown_as_it_is(cast):
    @jobs.job_handler("tests.refuse", label="refuse", action="change")
    def refuse(job):
        raise jobs.JobError("The file has no header row.")

    job = jobs.run_now("tests.refuse", user=cast.staff)
    assert (job.status, job.error, job.traceback) == (
        JobStatus.FAILED,
        "The file has no header row.",
        "",
    )


def test_a_job_kind_cannot_need_only_a_read_right():
    for action in ("view", "export", "personal_data", "nonsense"):
        with pytest.raises(ValueError, match="needs a write right"):
            jobs.job_handler("tests.readonly", label="readonly", action=action)


def test_a_second_delivery_of_a_finished_job_does_nothing(cast):
    job = jobs.run_now("core.selfcheck", user=cast.staff, params={"steps": 1})
    finished_at = job.finished_at
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.finished_at == finished_at


RACE_RUNS = []


@jobs.job_handler("tests.count_runs", label="count runs", action="change")
def count_runs(job):
    RACE_RUNS.append(threading.get_ident())
    return {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_job_is_claimed_only_once_when_two_workers_race_for_it(regions):
    """Two workers (threads, each on its own connection) get the same queued job at once."""
    RACE_RUNS.clear()
    job = Job.objects.create(kind="tests.count_runs")
    start = threading.Barrier(2)

    def work():
        try:
            start.wait(timeout=10)
            jobs.execute(job.pk)
        finally:
            connections.close_all()

    racers = [threading.Thread(target=work) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=30)
    assert len(RACE_RUNS) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED


def test_a_job_whose_worker_died_is_shown_as_failed_and_can_run_again(
    client, cast, django_capture_on_commit_callbacks
):
    job = Job.objects.create(
        kind="core.selfcheck",
        created_by=cast.staff,
        params={"steps": 2},
        status=JobStatus.RUNNING,
        started_at=timezone.now() - timedelta(hours=1),
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    client.force_login(cast.staff)
    client.get(reverse("core:job_list"))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "执行任务的后台进程已停止报告进度（可能已中断），请重新运行该任务。"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("core:job_rerun", args=[job.pk]))
    new_job = Job.objects.exclude(pk=job.pk).get()
    assert response.status_code == 302
    assert response.url == reverse("core:job_detail", args=[new_job.pk])
    new_job.refresh_from_db()
    assert new_job.rerun_of_id == job.pk
    assert (new_job.status, new_job.params, new_job.counts) == (
        JobStatus.SUCCEEDED,
        {"steps": 2},
        {"steps": 2},
    )
    assert new_job.created_by == cast.staff


def test_a_job_that_reported_recently_is_not_lost(client, cast):
    job = Job.objects.create(
        kind="core.selfcheck",
        status=JobStatus.RUNNING,
        created_by=cast.staff,
        started_at=timezone.now() - timedelta(hours=5),
        heartbeat_at=timezone.now() - timedelta(seconds=30),
    )
    assert jobs.fail_stale_jobs() == 0
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING


def test_a_job_this_process_is_running_is_not_lost_whatever_the_database_shows(cast):
    """In-process jobs on SQLite report inside their own transaction: nobody else sees it."""
    job = Job.objects.create(
        kind="core.selfcheck",
        status=JobStatus.RUNNING,
        started_at=timezone.now() - timedelta(hours=1),
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    jobs._LIVE[job.pk] = job
    try:
        assert jobs.fail_stale_jobs() == 0
    finally:
        del jobs._LIVE[job.pk]
    assert jobs.fail_stale_jobs() == 1


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


# Who may re-run what: the right the kind needs to be started, never less than a write right.
# The job is in 昆阳镇, so every role of the cast but the bank officer and the other county's
# staff sees it (those two get 404: a job out of scope does not exist for them).
RERUN_KINDS = {"import": "import", "screening.rebuild": "screen", "dashboards.refresh": "screen"}
RERUN_ANSWERS = {
    "staff": 302,
    "city_staff": 302,
    "admin": 302,
    "township": 403,
    "regulator": 403,
    "partner": 403,
    "officer": 404,
    "outsider_staff": 404,
}


@pytest.mark.parametrize("kind", sorted(RERUN_KINDS))
@pytest.mark.parametrize("role", sorted(RERUN_ANSWERS))
def test_rerunning_needs_the_right_the_kind_needs_to_be_started(client, cast, kind, role):
    assert jobs.kind_action(kind) == RERUN_KINDS[kind]
    job = Job.objects.create(
        kind=kind,
        status=JobStatus.SUCCEEDED,
        region=Region.objects.get(code=PINGYANG_TOWN),
        params={"batch": 1} if kind == "import" else {},
    )
    client.force_login(getattr(cast, role))
    page = client.get(reverse("core:job_detail", args=[job.pk]))
    assert page.status_code == (404 if RERUN_ANSWERS[role] == 404 else 200)
    rerun_button = reverse("core:job_rerun", args=[job.pk])
    # The button is offered exactly to those allowed to use it.
    assert (rerun_button in page.content.decode()) == (RERUN_ANSWERS[role] == 302)
    response = client.post(reverse("core:job_rerun", args=[job.pk]))
    assert response.status_code == RERUN_ANSWERS[role]
    assert Job.objects.count() == (2 if response.status_code == 302 else 1)
    # The API has no door to start or re-run a job.
    assert client.post(f"/api/v1/jobs/{job.pk}/rerun/").status_code == 404


@pytest.mark.parametrize(
    ("scopes", "kind", "answer"),
    [
        ("view", "dashboards.refresh", 403),
        ("view,export", "dashboards.refresh", 403),
        ("view,import", "import", 302),
        ("view,import", "dashboards.refresh", 403),
        ("view,screen", "dashboards.refresh", 302),
        ("view,screen", "screening.rebuild", 302),
        ("view,screen", "import", 403),
    ],
)
def test_a_partner_token_reruns_only_what_its_scopes_allow(client, regions, scopes, kind, answer):
    partner = make_user("partner2", Role.PARTNER, region="330326", api_scopes=scopes)
    job = Job.objects.create(
        kind=kind, status=JobStatus.FAILED, region=Region.objects.get(code=PINGYANG_TOWN)
    )
    client.force_login(partner)
    assert client.post(reverse("core:job_rerun", args=[job.pk])).status_code == answer


def test_a_running_job_is_not_rerun(client, cast):
    job = Job.objects.create(kind="core.selfcheck", created_by=cast.staff, status="running")
    client.force_login(cast.staff)
    assert client.post(reverse("core:job_rerun", args=[job.pk])).status_code == 409


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


WAIT_STARTED = threading.Event()
WAIT_GO = threading.Event()


@jobs.job_handler("tests.wait", label="wait", action="change")
def wait_for_go(job):
    job.report(done=1, total=4, step="Waiting for the test", force=True)
    WAIT_STARTED.set()
    assert WAIT_GO.wait(timeout=30), "the test never let the job go on"
    job.report(done=4, total=4)
    return {"steps": 4}


@pytest.fixture
def worker_thread():
    """In-process jobs on the worker thread, as in the web process of the embedded default."""
    WAIT_STARTED.clear()
    WAIT_GO.clear()
    worker.enable()
    yield
    WAIT_GO.set()
    worker.drain()
    worker.disable()


@pytest.mark.django_db(transaction=True)
def test_a_view_answers_before_its_in_process_job_has_finished(client, cast, worker_thread):
    finished = Job.objects.create(
        kind="tests.wait", created_by=cast.staff, status=JobStatus.SUCCEEDED
    )
    client.force_login(cast.staff)
    response = client.post(reverse("core:job_rerun", args=[finished.pk]))
    assert response.status_code == 302
    job = Job.objects.get(rerun_of=finished)
    # The request has answered; the job runs on the worker thread and waits for the test.
    assert WAIT_STARTED.wait(timeout=30)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    progress = client.get(reverse("core:job_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert progress.status_code == 200  # still polling
    assert (
        "25%" in progress.content.decode() and "Waiting for the test" in progress.content.decode()
    )
    WAIT_GO.set()
    worker.drain()
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.counts) == (JobStatus.SUCCEEDED, 4, {"steps": 4})


def test_without_the_worker_thread_in_process_jobs_run_in_the_calling_thread(cast):
    """Management commands and tests: the job is done when the queueing call returns."""
    assert not worker.enabled()
    job = jobs.enqueue("core.selfcheck", params={"steps": 2})
    jobs.dispatch(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED


def test_a_progress_poll_writes_nothing_when_no_job_is_lost(client, cast):
    """On SQLite a write waits for the lock an in-process job holds: a poll must only read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    job = Job.objects.create(
        kind="core.selfcheck", created_by=cast.staff, status="running", heartbeat_at=timezone.now()
    )
    client.force_login(cast.staff)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("core:job_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert writes == []


@pytest.mark.django_db(transaction=True)
def test_the_web_process_runs_the_jobs_a_restart_left_queued(cast, worker_thread):
    # Queued before the restart: their process died before handing them to its thread.
    left = [Job.objects.create(kind="core.selfcheck", params={"steps": n}) for n in (1, 2)]
    jobs.serve_in_process_jobs()
    worker.drain()
    for job in left:
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED
