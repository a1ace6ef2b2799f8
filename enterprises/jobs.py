"""Job handlers of the enterprises app: running an uploaded import batch, and the part of the
job page that shows an import's outcome (row errors, links to fix and upload again)."""

import logging

from django.db.models import Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from core.choices import JobStatus
from core.jobs import JobError, job_handler
from core.panels import register_panel

from .choices import ImportStatus
from .importing import import_file
from .importing.pipeline import FAILED_MESSAGE
from .models import ImportBatch

IMPORT_KIND = "import"
# A dry run is a kind of its own, so every list of jobs names it apart and labels its counts
# as what would happen: nothing is written.
DRY_RUN_KIND = "import.dry_run"
PANEL_ERRORS = 50

logger = logging.getLogger(__name__)


@job_handler(
    DRY_RUN_KIND,
    label=_("Trial import"),
    action="import",
    count_labels={
        "read": _("Rows read"),
        "created": _("Would create"),
        "updated": _("Would update"),
        "unchanged": _("Would leave unchanged"),
        "errors": _("Would skip (rows with errors)"),
    },
)
@job_handler(
    IMPORT_KIND,
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
    dry_run = is_dry_run(job)
    job.result_url = reverse("enterprises:import_detail", args=[batch.pk])
    job.report(done=0, step=_("Reading rows"), force=True)
    try:
        batch = import_file(
            batch.kind,
            batch.stored_file,
            user=job.created_by,
            file_name=batch.file_name,
            dry_run=dry_run,
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
    # The engine's last step is "Writing", which a dry run or a rejected file never did.
    if batch.status == ImportStatus.REJECTED:
        if dry_run:
            job.set_step(_("Trial import rejected: nothing was written."))
        else:
            job.set_step(_("Rejected: nothing was written."))
    if batch.status in (ImportStatus.REJECTED, ImportStatus.FAILED):
        raise JobError(batch.message)
    if dry_run:
        job.set_step(_("Trial import finished: nothing was written."))
    else:
        job.set_step(_("Imported."))
    return summary_counts(batch)


def summary_counts(batch):
    return {
        "read": batch.rows_read,
        "created": batch.rows_created,
        "updated": batch.rows_updated,
        "unchanged": batch.rows_unchanged,
        "errors": batch.rows_failed,
    }


def is_dry_run(job):
    return job.kind == DRY_RUN_KIND or bool(job.params.get("dry_run"))


def trial_batches_q():
    """Batches whose last run was a dry run (by a job, or on the command line)."""
    return Q(job__kind=DRY_RUN_KIND) | Q(job__isnull=True, status=ImportStatus.DRY_RUN)


# --- The job page -------------------------------------------------------------------------


def import_panel_context(request, job):
    """What the job page of an import shows under the progress: the batch and its row errors."""
    batch = (
        ImportBatch.objects.restrict(request.user, "import")
        .filter(pk=job.params.get("batch"))
        .first()
    )
    if batch is None:
        return None
    errors = list(batch.errors.all()[: PANEL_ERRORS + 1])
    return {
        "job": job,
        "batch": batch,
        "dry_run": is_dry_run(job),
        "errors": errors[:PANEL_ERRORS],
        "more_errors": len(errors) > PANEL_ERRORS,
        "error_count": batch.errors.count() if len(errors) > PANEL_ERRORS else len(errors),
        "can_apply": batch.status == ImportStatus.DRY_RUN and batch.job_id == job.pk,
        "upload_url": reverse("enterprises:import_upload") + "?" + urlencode({"kind": batch.kind}),
    }


def import_can_rerun(job):
    # A rejected dry run fails the same way on the same file: the file must be fixed.
    if not is_dry_run(job) or job.status != JobStatus.FAILED:
        return True
    return not ImportBatch.objects.filter(
        pk=job.params.get("batch"), status=ImportStatus.REJECTED
    ).exists()


register_panel(
    [IMPORT_KIND, DRY_RUN_KIND],
    template="enterprises/_import_job_panel.html",
    context=import_panel_context,
    can_rerun=import_can_rerun,
)
