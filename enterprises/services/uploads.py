"""Storing uploaded import files and queueing their import jobs (used by the UI and the API)."""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction

from core.jobs import enqueue

from ..importing.pipeline import file_sha256
from ..models import ImportBatch


def create_batch_from_upload(user, kind, upload):
    """Save the upload under MEDIA_ROOT/imports and create its pending batch."""
    folder = Path(settings.MEDIA_ROOT) / "imports"
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


def enqueue_import(user, batch, *, dry_run=False, force=False):
    with transaction.atomic():
        job = enqueue(
            "import",
            user=user,
            region=batch.region,
            params={"batch": batch.pk, "dry_run": dry_run, "force": force},
        )
        ImportBatch.objects.filter(pk=batch.pk).update(job=job)
    return job
