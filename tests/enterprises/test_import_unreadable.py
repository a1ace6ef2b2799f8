"""Issue 10 item 5: unreadable files are refused cleanly; a failed import never stays running."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.models import Job
from enterprises.models import Enterprise, ImportBatch
from enterprises.services.uploads import create_batch_from_upload, enqueue_import
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_csv

pytestmark = pytest.mark.django_db

UTF16_REASON = (
    "文件为 UTF-16（Unicode 文本）编码，不受支持：请另存为 CSV UTF-8 或 .xlsx 后重新上传。"
)
BINARY_REASON = "文件不是文本 CSV 文件（含有二进制数据）：请另存为 CSV UTF-8 或 .xlsx 后重新上传。"


def _utf16(tmp_path):
    return write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(3), encoding="utf-16")


def _binary(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    return path


def _upload(user, path, kind, django_capture_on_commit_callbacks):
    """Store the file as an upload and run its import job (the form and the API refuse such
    files at the door already: tests/enterprises/test_import_upload_rule.py)."""
    upload = SimpleUploadedFile("r.csv", Path(path).read_bytes(), content_type="text/csv")
    batch = create_batch_from_upload(user, kind, upload)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_import(user, batch)
    batch.refresh_from_db()
    return batch


@pytest.mark.parametrize("kind", ["registry", "loans"])
@pytest.mark.parametrize(("make", "reason"), [(_utf16, UTF16_REASON), (_binary, BINARY_REASON)])
def test_a_utf16_or_binary_csv_is_rejected_with_a_chinese_reason(
    client, cast, tmp_path, django_capture_on_commit_callbacks, kind, make, reason
):
    client.force_login(cast.staff)
    batch = _upload(cast.staff, make(tmp_path), kind, django_capture_on_commit_callbacks)
    assert batch.status == "rejected"
    assert batch.message == reason
    job = Job.objects.get(pk=batch.job_id)
    assert job.status == "failed"
    assert job.error == reason
    # What the county's regulator and the uploader read: no SQL anywhere.
    client.force_login(cast.regulator)
    page = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert "LINE 1" not in page and "Error" not in page


def test_a_nul_byte_in_a_row_is_a_row_error(
    tmp_path, cast, client, django_capture_on_commit_callbacks
):
    rows = registry_rows(30)
    rows[4][1] = "坏\x00名"
    client.force_login(cast.staff)
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows)
    batch = _upload(cast.staff, path, "registry", django_capture_on_commit_callbacks)
    assert batch.status == "applied", batch.message
    assert batch.rows_created == 29
    error = batch.errors.get()
    assert (error.row_number, error.reason) == (6, "单元格含有 NUL 字符（二进制数据）。")
    assert error.value == "坏\ufffd名"
    assert Enterprise.objects.count() == 29


def test_a_batch_whose_job_failed_is_never_left_running(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(cast.staff)
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(3))
    upload = SimpleUploadedFile("r.csv", path.read_bytes(), content_type="text/csv")
    batch = create_batch_from_upload(cast.staff, "registry", upload)
    Path(batch.stored_file).unlink()  # the stored upload vanished before the job ran
    with django_capture_on_commit_callbacks(execute=True):
        job = enqueue_import(cast.staff, batch, dry_run=True)
    batch.refresh_from_db()
    job.refresh_from_db()
    assert batch.status == "failed"
    assert job.status == "failed"
    assert job.error == batch.message
    assert batch.message.startswith("导入因意外错误失败，未导入任何数据。")
    assert "Error" not in job.error

    response = client.post(reverse("enterprises:import_apply", args=[batch.pk]), follow=True)
    assert response.redirect_chain == [(reverse("enterprises:import_detail", args=[batch.pk]), 302)]
    assert "该导入已失败，不能确认导入：" in response.content.decode()
    assert not Job.objects.exclude(pk=job.pk).exists()


def test_a_batch_left_running_by_a_dead_worker_is_settled_as_failed(client, cast, tmp_path):
    # The worker died: its job is still "running" but has been silent for too long.
    silent_since = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS + 60)
    job = Job.objects.create(
        kind="import", status="running", created_by=cast.staff, started_at=silent_since
    )
    batch = ImportBatch.objects.create(
        kind="registry", file_name="r.csv", status="running", job=job, created_by=cast.staff
    )
    client.force_login(cast.staff)
    detail = client.get(f"/api/v1/imports/{batch.pk}/").json()
    assert detail["status"] == "failed"
    response = client.post(reverse("enterprises:import_apply", args=[batch.pk]))
    assert response.status_code == 302
    assert ImportBatch.objects.get(pk=batch.pk).status == "failed"
    assert Job.objects.count() == 1
