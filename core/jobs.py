"""One runner for every long task: register a handler per kind, enqueue, execute.

A handler is a plain function ``handler(job)`` that does the work (calling services),
reports progress with ``job.report(...)``, and returns a dict of counts. Raise ``JobError``
with a translated message for failures a user should read.
"""

import json
import logging
import threading
import time
import traceback
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from . import worker
from .choices import JobStatus
from .kinds import handler, is_registered, job_handler, kind_action, kind_label
from .models import Job
from .signals import jobs_lost

__all__ = ["DETACHED", "JobError", "enqueue", "execute", "job_handler", "kind_action", "kind_label"]

logger = logging.getLogger(__name__)

# Jobs this process is running now, by id: their handler's Job object (live progress, even
# while the work's transaction hides it from other connections) and proof they are alive.
_LIVE = {}

# A job keeps at most this many log lines (the first ones, then the last ones).
LOG_HEAD, LOG_TAIL = 50, 450


class JobError(Exception):
    """A failure whose message is meant for the user (already translated)."""


# Returned by a handler whose work goes on in other tasks (one per part, e.g. a Celery group):
# the job stays running, and the last part's ``part_done`` call finishes it.
DETACHED = object()


def enqueue(kind, *, user=None, region=None, params=None, rerun_of=None):
    """Create a queued Job and hand it to a worker once the current transaction commits."""
    if not is_registered(kind):
        raise ValueError(f"no handler for job kind {kind!r}")
    job = Job.objects.create(
        kind=kind,
        params=params or {},
        created_by=user if user is not None and user.is_authenticated else None,
        region=region,
        rerun_of=rerun_of,
    )
    transaction.on_commit(lambda: dispatch(job.pk))
    return job


def dispatch(job_id):
    """Run a queued job: on a Celery worker when there is a broker, else in this process
    (on the web process's worker thread, or right here in a command or a test)."""
    if not current_app.conf.task_always_eager:
        # By name: the runner does not import its own tasks module.
        current_app.send_task("core.tasks.run_job", args=[job_id])
    elif worker.enabled():
        worker.submit(execute, job_id)
    else:
        execute(job_id)


def serve_in_process_jobs():
    """Called by the web process: without a broker, run jobs on its worker thread from now on,
    starting with those still queued (a restart, e.g. runserver's reloader, forgets its queue;
    the database does not)."""
    worker.enable()
    if current_app.conf.task_always_eager:
        worker.submit(resume_queued, None)


def resume_queued(_unused=None):
    """Run every job still queued, oldest first (each is claimed, so none runs twice)."""
    queued = Job.objects.filter(status=JobStatus.QUEUED).order_by("created_at", "id")
    for job_id in list(queued.values_list("pk", flat=True)):
        execute(job_id)


def run_now(kind, *, user=None, region=None, params=None):
    """Create a Job and run it in this process, returning when it is finished (CLI use)."""
    job = Job.objects.create(kind=kind, params=params or {}, created_by=user, region=region)
    execute(job.pk)
    job.refresh_from_db()
    return job


def live(job):
    """``job`` with the progress its handler has reached when this process runs it now."""
    running = _LIVE.get(job.pk)
    if running is not None and job.status == JobStatus.RUNNING:
        for field in ("progress_done", "progress_total", "step", "counts"):
            setattr(job, field, getattr(running, field))
    return job


def execute(job_id):
    """Claim a queued job and run its handler, recording success or failure and its log."""
    now = timezone.now()
    # Claim with a conditional UPDATE so two workers never run the same job.
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        logger.info("job %s was already claimed or does not exist", job_id)
        return
    job = Job.objects.get(pk=job_id)
    func = handler(job.kind)
    _LIVE[job.pk] = job
    log = JobLog()
    try:
        with log:
            counts = func(job)
    except JobError as exc:
        _finish(job, JobStatus.FAILED, error=str(exc), log=log)
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        # The exception's text can hold SQL or data: only admins read it, on the job page.
        _finish(
            job,
            JobStatus.FAILED,
            error=_(
                "The job stopped because of an internal error. Run it again later; if it "
                "fails again, tell an administrator."
            ),
            trace=traceback.format_exc(),
            log=log,
        )
    else:
        if counts is DETACHED:
            Job.objects.filter(pk=job.pk).update(log=log.text())
            return
        job.counts = {**job.counts, **(counts or {})}
        _finish(job, JobStatus.SUCCEEDED, log=log)
    finally:
        _LIVE.pop(job.pk, None)


class JobLog(logging.Handler):
    """Collects the log records of the current thread while a handler runs (INFO and up)."""

    def __init__(self):
        super().__init__(level=logging.INFO)
        self.thread = threading.get_ident()
        self.head, self.tail, self.dropped = [], [], 0
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def __enter__(self):
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger().removeHandler(self)

    def emit(self, record):
        if record.thread != self.thread:
            return
        try:
            line = self.format(record)
        except Exception:
            return
        if len(self.head) < LOG_HEAD:
            self.head.append(line)
            return
        self.tail.append(line)
        if len(self.tail) > LOG_TAIL:
            del self.tail[0]
            self.dropped += 1

    def text(self):
        gap = [f"... {self.dropped} lines left out ..."] if self.dropped else []
        return "\n".join(self.head + gap + self.tail)


def part_done(job_id, counts=None, problem="", trace=""):
    """Record one finished part of a detached job (see ``DETACHED``); return True when this
    was the last part, which finishes the job: failed if any part reported a problem.
    ``problem`` is for users (translated, no exception text); ``trace`` for administrators.

    Numbers in ``counts`` are added to the job's counts. The row lock keeps parts that finish
    at the same moment from losing each other's counts.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != JobStatus.RUNNING:
            return False
        for key, value in (counts or {}).items():
            job.counts[key] = job.counts.get(key, 0) + value
        if problem:
            job.error = "; ".join(filter(None, [job.error, problem]))
        if trace:  # for administrators, like the traceback of a job that failed as a whole
            job.traceback = "\n".join(filter(None, [job.traceback, trace]))
        job.progress_done += 1
        job.heartbeat_at = timezone.now()
        last = job.progress_done >= job.progress_total
        if not last:
            job.save(
                update_fields=["counts", "error", "traceback", "progress_done", "heartbeat_at"]
            )
            return False
        _finish(
            job,
            JobStatus.FAILED if job.error else JobStatus.SUCCEEDED,
            error=job.error,
            trace=job.traceback,
        )
        return True


def _finish(job, status, error="", trace="", log=None):
    now = timezone.now()
    fields = {
        "status": status,
        "traceback": trace,
        "finished_at": now,
        "heartbeat_at": now,
        "error": error,
        "counts": job.counts,
        "step": job.step,
        "step_translations": job.step_translations,
        "progress_done": job.progress_done,
        "progress_total": job.progress_total,
        "result_url": job.result_url,
    }
    if log is not None:
        fields["log"] = log.text()
    if status == JobStatus.SUCCEEDED and job.progress_total:
        fields["progress_done"] = job.progress_total
    # Only a running job is finished: one already marked lost by fail_stale_jobs stays failed.
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(**fields)


class OutsideProgress:
    """Reports a job's progress on a connection of its own, so that other sessions see it
    while the caller's long transaction (an import, a list rebuild) is still open.

    Best effort: a failed report never stops the work. On SQLite (one writer, jobs in
    process) the progress is only kept on the job object. Call ``close()`` when done.
    """

    def __init__(self, job):
        self.job = job
        self._side = None
        self._last_report = 0.0
        self._enabled = job is not None and connection.vendor == "postgresql"

    def __call__(self, done, total, step, force=False):
        job = self.job
        if job is None:
            return
        job.set_step(step)
        job.progress_done, job.progress_total = done, total
        now = time.monotonic()
        if not self._enabled or (not force and now - self._last_report < 0.5):
            return
        self._last_report = now
        if self._side is None:
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with self._side.cursor() as cursor:
                cursor.execute(
                    "UPDATE core_job SET progress_done = %s, progress_total = %s, step = %s, "
                    "step_translations = %s::jsonb, heartbeat_at = %s WHERE id = %s",
                    (
                        done,
                        total,
                        job.step,
                        json.dumps(job.step_translations, ensure_ascii=False),
                        timezone.now(),
                        job.pk,
                    ),
                )
        except Exception:
            logger.warning("could not report the progress of job %s", job.pk, exc_info=True)

    def close(self):
        if self._side is not None:
            self._side.close()
            self._side = None


def stale_q(job_path=""):
    """The one staleness rule, for jobs and for the rows a job runs (screening runs).

    A running job is lost when it has given no sign of life (a progress report, else its
    start) for ``JOB_STALE_AFTER_SECONDS``; a row run by a job (``job_path="job__"``) is lost
    when its job is, or, with no job, when it started that long ago. Jobs this process is
    running right now are alive, whatever the database shows while their transaction is open.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    signs = [F(f"{job_path}heartbeat_at"), F(f"{job_path}started_at")]
    if job_path:
        signs.append(F("started_at"))
    q = Q(status=JobStatus.RUNNING) & Q(LessThan(Coalesce(*signs), cutoff))
    if _LIVE:
        q &= ~Q(**{f"{job_path}pk__in": list(_LIVE)})
    return q


def fail_stale_jobs():
    """Mark running jobs whose worker stopped reporting as failed; return how many."""
    stale = Job.objects.filter(stale_q())
    # Pages call this on every poll: read first, so that on SQLite a poll never waits for the
    # write lock an in-process job holds (a read does not wait, an UPDATE would).
    lost = list(stale.values_list("pk", flat=True))
    if not lost:
        return 0
    count = Job.objects.filter(stale_q(), pk__in=lost).update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        error=_("The worker stopped reporting (it may have died). Run the job again."),
    )
    jobs_lost.send(sender=None, job_ids=lost)
    return count


def rerun(job, user):
    """Queue a new job with the same kind, region and parameters as ``job``."""
    return enqueue(job.kind, user=user, region=job.region, params=job.params, rerun_of=job)


@job_handler(
    "core.selfcheck",
    label=_lazy("System self-check"),
    action="change",
    count_labels={"steps": _lazy("Steps")},
)
def selfcheck(job):
    """Count to ``params.steps`` with progress: proves workers run jobs end to end."""
    steps = int(job.params.get("steps", 10))
    for done in range(1, steps + 1):
        job.report(done=done, total=steps, step=_("Step {n}").format(n=done), force=True)
    return {"steps": steps}
