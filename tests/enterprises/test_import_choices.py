"""Issue 12 items 4 and 6: force only for a file already imported (confirmed), an explicit
"skip the bad rows" choice past the error threshold, and batches shown to the regions they touch."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.models import Job
from enterprises.importing import import_file
from enterprises.models import Enterprise, ImportBatch
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_csv
from tests.factories import LUCHENG_STREET

pytestmark = pytest.mark.django_db


def _rows_with_two_bad():
    rows = registry_rows(10)
    rows[2][2] = rows[7][2] = "not a date"
    return rows


def _dry_run(client, user, tmp_path, rows, capture):
    client.force_login(user)
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows)
    upload = SimpleUploadedFile("r.csv", path.read_bytes(), content_type="text/csv")
    with capture(execute=True):
        client.post(reverse("enterprises:import_upload"), {"kind": "registry", "file": upload})
    return ImportBatch.objects.latest("pk")


def _apply(client, batch, capture, **data):
    with capture(execute=True):
        return client.post(reverse("enterprises:import_apply", args=[batch.pk]), data, follow=True)


def test_a_small_file_over_the_threshold_may_skip_its_bad_rows_when_confirmed(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    batch = _dry_run(client, cast.staff, tmp_path, _rows_with_two_bad(), capture)
    assert (batch.status, batch.rejected_for) == ("rejected", "too_many_errors")
    page = client.get(reverse("enterprises:import_detail", args=[batch.pk])).content.decode()
    assert "跳过 2 行有错误的行，导入其余 8 行。" in page
    assert 'name="force"' not in page  # force cannot help here

    response = _apply(client, batch, capture, skip_bad_rows="1")  # not confirmed
    assert "请先勾选确认框。" in response.content.decode()
    assert Job.objects.count() == 1 and not Enterprise.objects.exists()

    response = _apply(client, batch, capture, force="1", confirm="1")
    assert "该批次已被拒绝" in response.content.decode()
    assert Job.objects.count() == 1

    _apply(client, batch, capture, skip_bad_rows="1", confirm="1")
    batch.refresh_from_db()
    assert (batch.status, batch.rows_created, batch.rows_failed) == ("applied", 8, 2)
    assert batch.skip_bad_rows is True
    assert Enterprise.objects.count() == 8


def test_force_is_offered_only_for_a_file_already_imported_and_asks_first(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    rows = registry_rows(3)
    first = _dry_run(client, cast.staff, tmp_path, rows, capture)
    _apply(client, first, capture)
    assert ImportBatch.objects.get(pk=first.pk).status == "applied"

    again = _dry_run(client, cast.staff, tmp_path, rows, capture)
    assert (again.status, again.rejected_for) == ("rejected", "duplicate")
    page = client.get(reverse("enterprises:import_detail", args=[again.pk])).content.decode()
    assert "是的，重新导入这个已经导入过的文件。" in page
    assert 'name="skip_bad_rows"' not in page

    response = _apply(client, again, capture, force="1")
    assert "请先勾选确认框。" in response.content.decode()
    assert ImportBatch.objects.get(pk=again.pk).status == "rejected"

    _apply(client, again, capture, force="1", confirm="1")
    again.refresh_from_db()
    assert (again.status, again.forced, again.rows_unchanged) == ("applied", True, 3)


def test_the_command_line_and_the_api_take_skip_bad_rows(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, _rows_with_two_bad())
    with pytest.raises(CommandError):
        call_command("import_data", "registry", str(path))
    assert not Enterprise.objects.exists()
    call_command("import_data", "registry", str(path), "--skip-bad-rows")
    assert Enterprise.objects.count() == 8

    client.force_login(cast.staff)
    other = write_csv(tmp_path / "o.csv", REGISTRY_HEADER, _rows_with_two_bad())
    upload = SimpleUploadedFile("o.csv", other.read_bytes(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/", {"kind": "registry", "file": upload, "skip_bad_rows": "true"}
        )
    detail = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert (detail["status"], detail["rows_created"]) == ("applied", 8)
    assert Enterprise.objects.count() == 16


def test_system_imports_show_in_the_history_of_the_regions_they_touched(client, cast, tmp_path):
    from demo.services import import_demo_file

    path = write_csv(tmp_path / "demo-registry.csv", REGISTRY_HEADER, registry_rows(3))
    import_demo_file("registry", path)  # as load_demo does: no user, no uploader region
    batch = ImportBatch.objects.get()
    assert batch.created_by is None and batch.region is None

    client.force_login(cast.staff)  # 平阳县 task force
    assert [b["id"] for b in client.get("/api/v1/imports/").json()["results"]] == [batch.pk]
    page = client.get(reverse("enterprises:import_list")).content.decode()
    assert "demo-registry.csv" in page
    assert client.get(reverse("enterprises:import_detail", args=[batch.pk])).status_code == 200

    client.force_login(cast.outsider_staff)  # 鹿城区: the batch touched nothing there
    assert client.get("/api/v1/imports/").json()["results"] == []
    assert client.get(reverse("enterprises:import_detail", args=[batch.pk])).status_code == 404


def test_a_loan_file_belongs_to_the_regions_of_its_enterprises(tmp_path, cast):
    from tests.factories import make_enterprise

    here, there = make_enterprise(), make_enterprise(region=LUCHENG_STREET)
    header = [
        "统一社会信用代码", "银行机构代码", "借据号", "放款日期", "到期日期",
        "放款金额（万元）", "产品类型", "担保方式",
    ]  # fmt: skip
    rows = [
        [e.uscc, "PY-BR", f"L{i}", "2025-01-01", "2026-01-01", "1", "流动资金贷款", "信用"]
        for i, e in enumerate([here, there])
    ]
    batch = import_file("loans", write_csv(tmp_path / "l.csv", header, rows))
    assert sorted(batch.touched_regions.values_list("code", flat=True)) == [
        LUCHENG_STREET,
        here.region_id,
    ]
    assert ImportBatch.objects.restrict(cast.staff, "import").get() == batch
    assert ImportBatch.objects.restrict(cast.outsider_staff, "import").get() == batch
    assert ImportBatch.objects.restrict(cast.city_staff, "import").get() == batch
