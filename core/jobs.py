"""One runner for every long task: register a handler per kind, enqueue, execute.

A handler is a plain function ``handler(job)`` that does the work (calling services),
reports progress with ``job.report(...)``, and returns a dict of counts. Raise ``JobError``
with a translated message for failures a user should read.
"""

import logging
import time
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .choices import JobStatus
from .models import Job

logger = logging.getLogger(__name__)

_HANDLERS = {}
_COUNT_LABELS = {}


class JobError(Exception):
    """A failure whose message is meant for the user (already translated)."""


# Returned by a handler whose work goes on in other tasks (one per part, e.g. a Celery group):
# the job stays running, and the last part's ``part_done`` call finishes it.
DETACHED = object()


def job_handler(kind, label, action="change", count_labels=None):
    """Register ``func(job) -> counts`` as the handler of jobs of ``kind``.

    ``action`` is what a user must be allowed to do (in the job's region) to start it;
    ``count_labels`` names the keys of the counts it returns, for the job page.
    """

    def register(func):
        _HANDLERS[kind] = (func, label, action)
        _COUNT_LABELS[kind] = dict(count_labels or {})
        return func

    return register


def labelled_counts(job):
    """[(label, value)] of a job's counts, labelled in the user's language where known."""
    labels = _COUNT_LABELS.get(job.kind, {})
    return [(str(labels.get(key, key)), value) for key, value in (job.counts or {}).items()]


def kind_label(kind):
    entry = _HANDLERS.get(kind)
    return str(entry[1]) if entry else kind


def kind_action(kind):
    entry = _HANDLERS.get(kind)
    return entry[2] if entry else "change"


def enqueue(kind, *, user=None, region=None, params=None, rerun_of=None):
    """Create a queued Job and send it to a worker once the current transaction commits."""
    if kind not in _HANDLERS:
        raise ValueError(f"no handler for job kind {kind!r}")
    job = Job.objects.create(
        kind=kind,
        params=params or {},
        created_by=user if user is not None and user.is_authenticated else None,
        region=region,
        rerun_of=rerun_of,
    )
    from .tasks import run_job

    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


def run_now(kind, *, user=None, region=None, params=None):
    """Create a Job and run it in this process, returning when it is finished (CLI use)."""
    job = Job.objects.create(kind=kind, params=params or {}, created_by=user, region=region)
    execute(job.pk)
    job.refresh_from_db()
    return job


def execute(job_id):
    """Claim a queued job and run its handler, recording success or failure."""
    now = timezone.now()
    # Claim with a conditional UPDATE so two workers never run the same job.
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        logger.info("job %s was already claimed or does not exist", job_id)
        return
    job = Job.objects.get(pk=job_id)
    func = _HANDLERS[job.kind][0]
    try:
        counts = func(job)
    except JobError as exc:
        _finish(job, JobStatus.FAILED, error=str(exc))
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(
            job,
            JobStatus.FAILED,
            error=_("Internal error: {error}").format(error=f"{type(exc).__name__}: {exc}"),
            trace=traceback.format_exc(),
        )
    else:
        if counts is DETACHED:
            return
        job.counts = {**job.counts, **(counts or {})}
        _finish(job, JobStatus.SUCCEEDED)


def part_done(job_id, counts=None, problem=""):
    """Record one finished part of a detached job (see ``DETACHED``); return True when this
    was the last part, which finishes the job: failed if any part reported a problem.

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
        job.progress_done += 1
        job.heartbeat_at = timezone.now()
        last = job.progress_done >= job.progress_total
        if not last:
            job.save(update_fields=["counts", "error", "progress_done", "heartbeat_at"])
            return False
        _finish(job, JobStatus.FAILED if job.error else JobStatus.SUCCEEDED, error=job.error)
        return True


def _finish(job, status, error="", trace=""):
    if trace:
        logger.debug(trace)
    now = timezone.now()
    fields = {
        "status": status,
        "finished_at": now,
        "heartbeat_at": now,
        "error": error,
        "counts": job.counts,
        "step": job.step,
        "progress_done": job.progress_done,
        "progress_total": job.progress_total,
        "result_url": job.result_url,
    }
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
        job.progress_done, job.progress_total, job.step = done, total, str(step)[:200]
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
                    "heartbeat_at = %s WHERE id = %s",
                    (done, total, job.step, timezone.now(), job.pk),
                )
        except Exception:
            logger.warning("could not report the progress of job %s", job.pk, exc_info=True)

    def close(self):
        if self._side is not None:
            self._side.close()
            self._side = None


def fail_stale_jobs():
    """Mark running jobs whose worker stopped reporting as failed; return how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    return Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff).update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        error=_("The worker stopped reporting (it may have died). Run the job again."),
    )


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
