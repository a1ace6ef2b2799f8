"""Import UI and API: permission, dry run → confirm → job, history, error report."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from enterprises.models import Enterprise, ImportBatch
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_csv
from tests.factories import make_bank

pytestmark = pytest.mark.django_db


def _upload(tmp_path, rows, name="r.csv"):
    path = write_csv(tmp_path / name, REGISTRY_HEADER, rows)
    return SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")


def test_the_upload_page_requires_the_import_right(client, cast, tmp_path):
    client.force_login(cast.township)
    assert client.get(reverse("enterprises:import_upload")).status_code == 403
    response = client.post(
        reverse("enterprises:import_upload"),
        {"kind": "registry", "file": _upload(tmp_path, registry_rows(1))},
    )
    assert response.status_code == 403
    assert client.get(reverse("enterprises:import_list")).status_code == 403
    assert not ImportBatch.objects.exists()


def test_upload_dry_run_then_confirm_applies(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(cast.staff)
    rows = registry_rows(30)
    rows[0][2] = "=cmd|' /C calc'!A0"  # a bad date that is also a formula
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("enterprises:import_upload"),
            {"kind": "registry", "file": _upload(tmp_path, rows)},
        )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.status == "dry_run"
    assert batch.rows_created == 29 and batch.rows_failed == 1
    assert not Enterprise.objects.exists()
    detail = client.get(reverse("enterprises:import_detail", args=[batch.pk]))
    assert detail.status_code == 200
    assert "=cmd" in detail.content.decode()

    report = client.get(reverse("enterprises:import_errors", args=[batch.pk]))
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0] == 2
    assert values[1][3] == "'=cmd|' /C calc'!A0"  # neutralised

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("enterprises:import_apply", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "applied"
    assert Enterprise.objects.count() == 29
    page = client.get(reverse("enterprises:import_list"))
    assert batch.file_sha256[:12] in page.content.decode()


def test_other_regions_batches_are_not_shown(client, cast, tmp_path):
    batch = ImportBatch.objects.create(
        kind="registry", file_name="x.csv", file_sha256="0" * 64, created_by=cast.outsider_staff
    )
    client.force_login(cast.staff)
    assert client.get(reverse("enterprises:import_detail", args=[batch.pk])).status_code == 404


def test_the_api_refuses_users_without_the_import_right(client, cast, tmp_path):
    client.force_login(cast.regulator)
    response = client.post(
        "/api/v1/imports/", {"kind": "registry", "file": _upload(tmp_path, registry_rows(1))}
    )
    assert response.status_code == 403
    assert client.get("/api/v1/imports/").status_code == 403
    assert not ImportBatch.objects.exists()


def test_the_api_uploads_and_reports_status_and_errors(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(cast.staff)
    rows = registry_rows(30)
    rows[5][3] = "不存在"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/", {"kind": "registry", "file": _upload(tmp_path, rows)}
        )
    assert response.status_code == 202, response.content
    batch_id = response.json()["id"]
    assert response.json()["job"]["kind"] == "import"
    detail = client.get(f"/api/v1/imports/{batch_id}/").json()
    assert detail["status"] == "applied"
    assert detail["rows_created"] == 29
    assert detail["errors"][0]["row_number"] == 7
    assert Enterprise.objects.count() == 29


def test_the_enterprise_page_shows_where_values_came_from(client, cast, tmp_path):
    from enterprises.importing import import_file

    rows = registry_rows(1)
    batch = import_file("registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows))
    enterprise = Enterprise.objects.get()
    loan_header = ["统一社会信用代码", "银行机构代码", "借据号", "放款日期", "到期日期",
                   "放款金额（万元）", "产品类型", "担保方式"]  # fmt: skip
    bank = make_bank(code="B1")
    loan_row = [
        enterprise.uscc,
        bank.code,
        "L1",
        "2025-01-01",
        "2026-01-01",
        "100",
        "流动资金贷款",
        "信用",
    ]
    loans = import_file("loans", write_csv(tmp_path / "l.csv", loan_header, [loan_row]))
    assert loans.status == "applied", loans.message
    client.force_login(cast.staff)
    body = client.get(reverse("enterprises:detail", args=[enterprise.pk])).content.decode()
    for source in (batch, loans):
        assert reverse("enterprises:import_detail", args=[source.pk]) in body
        assert str(source.source_department) in body


def test_the_upload_page_and_history_render_for_staff(client, cast):
    client.force_login(cast.staff)
    page = client.get(reverse("enterprises:import_upload"))
    assert page.status_code == 200
    assert "市场主体登记信息" in page.content.decode()
    assert client.get(reverse("enterprises:import_list") + "?kind=registry").status_code == 200


def test_an_oversized_upload_is_refused_by_the_form(client, cast, tmp_path, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    client.force_login(cast.staff)
    response = client.post(
        reverse("enterprises:import_upload"),
        {"kind": "registry", "file": _upload(tmp_path, registry_rows(2))},
    )
    assert response.status_code == 200
    assert not ImportBatch.objects.exists()
