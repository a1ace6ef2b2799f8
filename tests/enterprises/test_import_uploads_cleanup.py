"""Uploaded files are deleted after IMPORT_KEEP_UPLOADS_DAYS; what the batch recorded stays."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from enterprises.importing import import_file
from enterprises.models import ImportBatch
from enterprises.services.uploads import create_batch_from_upload, purge_old_uploads
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_KEEP_UPLOADS_DAYS = 90
    return settings.MEDIA_ROOT


def uploaded(cast, tmp_path, rows, days_old):
    """An upload imported as a dry run, dated ``days_old`` days ago."""
    path = write_csv(tmp_path / "upload.csv", REGISTRY_HEADER, rows)
    upload = SimpleUploadedFile("upload.csv", path.read_bytes(), content_type="text/csv")
    batch = create_batch_from_upload(cast.staff, "registry", upload)
    import_file("registry", batch.stored_file, user=cast.staff, dry_run=True, batch=batch)
    ImportBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - timedelta(days=days_old)
    )
    batch.refresh_from_db()
    return batch


def test_old_uploads_are_deleted_and_recent_ones_kept(cast, media, tmp_path):
    old = uploaded(cast, tmp_path, registry_rows(3), days_old=91)
    recent = uploaded(cast, tmp_path, registry_rows(3), days_old=89)
    old_file = old.stored_file

    assert purge_old_uploads() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.stored_file == "" and not (media / "imports" / old_file).exists()
    assert old.rows_read == 3 and old.status == "dry_run"  # what it recorded stays
    assert recent.stored_file and (media / "imports" / recent.stored_file).exists()


def test_a_command_line_import_keeps_the_operators_own_file(cast, media, tmp_path):
    own = write_csv(tmp_path / "own.csv", REGISTRY_HEADER, registry_rows(2))
    batch = import_file("registry", own, user=None)
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(days=400))
    assert purge_old_uploads() == 0
    assert own.exists()


def test_the_error_report_of_a_deleted_upload_still_lists_the_errors(client, cast, media, tmp_path):
    rows = registry_rows(30)
    rows[0][2] = "not a date"
    batch = uploaded(cast, tmp_path, rows, days_old=120)
    purge_old_uploads()
    client.force_login(cast.staff)
    report = client.get(reverse("enterprises:import_errors", args=[batch.pk]))
    assert report.status_code == 200
    values = list(load_workbook(io.BytesIO(report.content)).active.iter_rows(values_only=True))
    assert values[0] == ("行号", "列", "值", "错误")
    assert values[1][0] == 2 and values[1][2] == "not a date"
