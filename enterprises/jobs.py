"""Job handlers of the enterprises app: running an uploaded import batch."""

import logging

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.jobs import JobError, job_handler

from .choices import ImportStatus
from .importing import import_file
from .importing.pipeline import FAILED_MESSAGE
from .models import ImportBatch

logger = logging.getLogger(__name__)


@job_handler(
    "import",
    label=_("Data import"),
    action="import",
    count_labels={
        "read": _("Rows read"),
        "created": _("Created"),
        "updated": _("Updated"),
        "unchanged": _("Unchanged"),
        "errors": _("Rows with errors"),
    },
)
def run_import(job):
    """Import the stored upload of batch ``params.batch`` (dry run when ``params.dry_run``)."""
    batch = ImportBatch.objects.get(pk=job.params["batch"])
    if batch.job_id != job.pk:
        ImportBatch.objects.filter(pk=batch.pk).update(job=job)
        batch.job = job
    job.result_url = reverse("enterprises:import_detail", args=[batch.pk])
    job.report(done=0, step=_("Reading rows"), force=True)
    try:
        batch = import_file(
            batch.kind,
            batch.stored_file,
            user=job.created_by,
            file_name=batch.file_name,
            dry_run=bool(job.params.get("dry_run")),
            force=bool(job.params.get("force")),
            skip_bad_rows=bool(job.params.get("skip_bad_rows")),
            job=job,
            batch=batch,
        )
    except Exception:
        # import_file settles the batch itself; this is the last guard (e.g. the file vanished):
        # the batch ends failed and the user reads a plain reason, never a database message.
        logger.exception("import job %s failed", job.pk)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.FAILED, message=str(FAILED_MESSAGE)
        )
        raise JobError(str(FAILED_MESSAGE)) from None
    if batch.status in (ImportStatus.REJECTED, ImportStatus.FAILED):
        raise JobError(batch.message)
    return summary_counts(batch)


def summary_counts(batch):
    return {
        "read": batch.rows_read,
        "created": batch.rows_created,
        "updated": batch.rows_updated,
        "unchanged": batch.rows_unchanged,
        "errors": batch.rows_failed,
    }
