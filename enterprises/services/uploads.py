"""Storing uploaded import files and queueing their import jobs (used by the UI and the API)."""

import logging
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.jobs import enqueue

from ..choices import ImportStatus
from ..importing.pipeline import FAILED_MESSAGE, file_sha256
from ..importing.readers import FileRejected, check_head, file_type
from ..jobs import DRY_RUN_KIND, IMPORT_KIND
from ..models import ImportBatch

logger = logging.getLogger(__name__)


def uploads_folder():
    return Path(settings.MEDIA_ROOT) / "imports"


def validate_upload(upload):
    """The one upload rule of the UI form and the API: size, extension, first bytes.

    Raises ValidationError with a message for the user; returns the upload.
    """
    if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is larger than the limit of {mb} MB.").format(
                mb=settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024)
            )
        )
    try:
        kind = file_type(upload.name)
        upload.seek(0)
        head = upload.read(64 * 1024)
        upload.seek(0)
        check_head(kind, head)
    except FileRejected as exc:
        raise ValidationError(str(exc.message)) from None
    if not head:
        raise ValidationError(_("The file is empty."))
    return upload


def create_batch_from_upload(user, kind, upload):
    """Save the upload under MEDIA_ROOT/imports and create its pending batch."""
    folder = uploads_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(upload.name).name[:200]
    target = folder / f"{uuid.uuid4().hex}{Path(name).suffix.lower()}"
    with open(target, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return ImportBatch.objects.create(
        kind=kind,
        file_name=name,
        file_sha256=file_sha256(target),
        file_size=target.stat().st_size,
        stored_file=str(target),
        created_by=user,
        region_id=user.region_id,
    )


def enqueue_import(user, batch, *, dry_run=False, force=False, skip_bad_rows=False):
    """Queue the import job of ``batch`` (see ``import_file`` for the options)."""
    params = {"batch": batch.pk, "dry_run": dry_run, "force": force}
    if skip_bad_rows:
        params["skip_bad_rows"] = True
    with transaction.atomic():
        job = enqueue(
            DRY_RUN_KIND if dry_run else IMPORT_KIND, user=user, region=batch.region, params=params
        )
        ImportBatch.objects.filter(pk=batch.pk).update(job=job)
    return job


def settle_batches_of_lost_jobs(sender, job_ids, **kwargs):
    """A batch whose import job was lost (its worker died) ends failed, never "running".

    Connected to ``core.signals.jobs_lost`` (enterprises/apps.py)."""
    ImportBatch.objects.filter(
        job_id__in=job_ids, status__in=[ImportStatus.PENDING, ImportStatus.RUNNING]
    ).update(status=ImportStatus.FAILED, message=str(FAILED_MESSAGE))


def apply_refusal(batch, *, force=False, skip_bad_rows=False):
    """Why ``batch`` cannot be applied now (a message for the user), or None when it can.

    A dry run is applied as it is; a rejected batch only with the choice its rejection
    allows: ``force`` for a file already imported, ``skip_bad_rows`` for too many bad rows.
    """
    if batch.status == ImportStatus.DRY_RUN and not (force or skip_bad_rows):
        return None
    if batch.status in (ImportStatus.DRY_RUN, ImportStatus.REJECTED):
        if force and batch.can_force and not skip_bad_rows:
            return None
        if skip_bad_rows and batch.can_skip_bad_rows and not force:
            return None
        if batch.status == ImportStatus.REJECTED:
            return _("This batch was rejected: {message} Fix the file and upload it again.").format(
                message=batch.message
            )
        return _("This choice is not available for this batch.")
    if batch.status == ImportStatus.FAILED:
        return _("This import failed and cannot be applied: {message}").format(
            message=batch.message or FAILED_MESSAGE
        )
    if batch.status == ImportStatus.APPLIED:
        return _("This batch is already imported.")
    return _("This batch is still being checked or imported: wait for its job to finish.")


def purge_old_uploads(now=None):
    """Delete uploaded files older than ``IMPORT_KEEP_UPLOADS_DAYS``; return how many went.

    Only files this app stored under MEDIA_ROOT/imports are deleted (a command-line import
    records the operator's own path, which is never touched), and never while the batch is
    pending or running. The batch keeps its counts and row errors; its error report then
    lists the errors without the original row values.
    """
    days = settings.IMPORT_KEEP_UPLOADS_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    folder = uploads_folder().resolve()
    old = (
        ImportBatch.objects.filter(created_at__lt=cutoff)
        .exclude(stored_file="")
        .exclude(status__in=[ImportStatus.PENDING, ImportStatus.RUNNING])
    )
    removed = 0
    for pk, stored in old.values_list("pk", "stored_file").iterator():
        path = Path(stored).resolve()
        if not path.is_relative_to(folder):
            continue
        path.unlink(missing_ok=True)
        ImportBatch.objects.filter(pk=pk).update(stored_file="")
        removed += 1
    if removed:
        logger.info("deleted %s uploaded files older than %s days", removed, days)
    return removed
