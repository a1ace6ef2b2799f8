"""Job handlers of the enterprises app: running an uploaded import batch."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.jobs import JobError, job_handler

from .choices import ImportStatus
from .importing import import_file
from .models import ImportBatch


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
    batch = import_file(
        batch.kind,
        batch.stored_file,
        user=job.created_by,
        file_name=batch.file_name,
        dry_run=bool(job.params.get("dry_run")),
        force=bool(job.params.get("force")),
        job=job,
        batch=batch,
    )
    if batch.status == ImportStatus.REJECTED:
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
