"""What a task-force user meets around an import: the job page of a dry run (row errors, fix
and upload again, no pointless re-run), dry-run wording, the history split into real and trial
imports, the template .xlsx per kind and the column list of the upload page (issue 12, items
2, 3 and 14)."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from core.models import Job
from enterprises.importing import import_file
from enterprises.importing.specs import SPECS
from enterprises.models import ImportBatch
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_csv
from tests.factories import make_assignment, make_enterprise

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client, tmp_path, rows, capture, name="r.csv", **headers):
    path = write_csv(tmp_path / name, REGISTRY_HEADER, rows)
    upload = SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")
    with capture(execute=True):
        response = client.post(
            reverse("enterprises:import_upload"), {"kind": "registry", "file": upload}, **headers
        )
    assert response.status_code == 302
    return Job.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))


def _bad_rows(count, bad):
    rows = registry_rows(count)
    for row in rows[:bad]:
        row[2] = "not-a-date"
    return rows


# --- Item 2: the job page of a rejected dry run -------------------------------------------


def test_a_rejected_dry_run_shows_its_row_errors_and_a_way_to_upload_again(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(cast.staff)
    job = _upload(client, tmp_path, _bad_rows(10, 3), django_capture_on_commit_callbacks)
    job.refresh_from_db()
    batch = ImportBatch.objects.get()
    assert (job.status, batch.status, batch.rows_failed) == ("failed", "rejected", 3)

    page = client.get(reverse("core:job_detail", args=[job.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count("<code>not-a-date</code>") == 3
    assert reverse("enterprises:import_errors", args=[batch.pk]) in body
    assert f"/enterprises/imports/{batch.pk}/errors.xlsx" in body
    assert reverse("enterprises:import_detail", args=[batch.pk]) in body
    assert reverse("enterprises:import_upload") + "?kind=registry" in body
    assert "修正文件后重新上传" in body
    assert "试导入未通过：未写入任何数据。" in body
    assert "正在写入" not in body
    # Running the same dry run again fails the same way: no button, and the server refuses.
    rerun = reverse("core:job_rerun", args=[job.pk])
    assert rerun not in body
    assert "重新运行" not in body
    assert rerun not in client.get(reverse("core:job_progress", args=[job.pk])).content.decode()
    assert client.post(rerun).status_code == 409
    assert Job.objects.count() == 1


def test_the_job_page_shows_the_first_50_errors_then_the_report(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(cast.staff)
    job = _upload(client, tmp_path, _bad_rows(80, 60), django_capture_on_commit_callbacks)
    body = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert body.count("<code>not-a-date</code>") == 50
    assert "前 50 条，共 60 条" in body
    batch = ImportBatch.objects.get()
    assert body.count(reverse("enterprises:import_errors", args=[batch.pk])) == 2


def test_the_import_panel_reloads_until_the_job_is_finished(client, cast):
    batch = ImportBatch.objects.create(
        kind="registry", file_name="r.csv", file_sha256="0" * 64, created_by=cast.staff
    )
    job = Job.objects.create(
        kind="import.dry_run", params={"batch": batch.pk, "dry_run": True}, created_by=cast.staff
    )
    client.force_login(cast.staff)
    panel_url = reverse("enterprises:import_job_panel", args=[job.pk])
    assert panel_url in client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert client.get(panel_url, HTTP_HX_REQUEST="true").status_code == 200
    Job.objects.filter(pk=job.pk).update(status="succeeded")
    assert panel_url not in client.get(panel_url, HTTP_HX_REQUEST="true").content.decode()
    # Someone else's import: no panel.
    client.force_login(cast.outsider_staff)
    assert client.get(panel_url).status_code == 404


def test_a_failed_real_import_can_still_run_again(client, cast):
    batch = ImportBatch.objects.create(
        kind="registry",
        file_name="r.csv",
        file_sha256="0" * 64,
        created_by=cast.staff,
        status="rejected",
    )
    job = Job.objects.create(
        kind="import", params={"batch": batch.pk}, created_by=cast.staff, status="failed"
    )
    client.force_login(cast.staff)
    body = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert reverse("core:job_rerun", args=[job.pk]) in body


# --- Item 3: a dry run says what it would do ----------------------------------------------


def test_a_dry_run_job_says_trial_import_and_would_create_in_chinese(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(cast.staff)
    job = _upload(client, tmp_path, registry_rows(12), django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert (job.kind, job.status) == ("import.dry_run", "succeeded")
    body = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert "<h1" in body and re.search(r"<h1[^>]*>试导入 ", body)
    assert "试导入完成：未写入任何数据" in body
    assert re.search(r"将新增</th><td[^>]*>12<", body)
    assert not re.search(r"<h1[^>]*>数据导入", body)
    for wrong in ("正在写入", "已创建"):
        assert wrong not in body
    # Confirming is offered right there.
    batch = ImportBatch.objects.get()
    assert reverse("enterprises:import_apply", args=[batch.pk]) in body
    jobs_page = client.get(reverse("core:job_list")).content.decode()
    assert "试导入" in jobs_page


def test_a_dry_run_job_says_trial_import_and_would_create_in_english(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(cast.staff)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    job = _upload(client, tmp_path, registry_rows(12), django_capture_on_commit_callbacks)
    body = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert re.search(r"<h1[^>]*>Trial import ", body)
    assert "Trial import finished: nothing was written." in body
    assert re.search(r"Would create</th><td[^>]*>12<", body)
    assert "Would update" in body
    for wrong in ("Writing", "Data import", ">Created<"):
        assert wrong not in body


def test_a_real_import_job_keeps_its_wording(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(cast.staff)
    _upload(client, tmp_path, registry_rows(5), django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("enterprises:import_apply", args=[batch.pk]))
    job = Job.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))
    assert (job.kind, job.status) == ("import", "succeeded")
    body = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert re.search(r"<h1[^>]*>数据导入 ", body)
    assert re.search(r"已创建</th><td[^>]*>5<", body)
    assert "将新增" not in body


def test_the_history_lists_dry_runs_apart_from_imports(
    client, cast, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(cast.staff)
    _upload(client, tmp_path, registry_rows(3), django_capture_on_commit_callbacks, "trial.csv")
    _upload(client, tmp_path, registry_rows(4), django_capture_on_commit_callbacks, "real.csv")
    real = ImportBatch.objects.get(file_name="real.csv")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("enterprises:import_apply", args=[real.pk]))
    # A dry run on the command line has no job.
    cli_path = write_csv(tmp_path / "cli.csv", REGISTRY_HEADER, registry_rows(2))
    cli = import_file("registry", cli_path, user=cast.staff, dry_run=True)
    assert cli.status == "dry_run" and cli.job_id is None

    imports = client.get(reverse("enterprises:import_list")).content.decode()
    trials = client.get(reverse("enterprises:import_list") + "?mode=trial").content.decode()
    assert "real.csv" in imports and "trial.csv" not in imports and "cli.csv" not in imports
    assert "trial.csv" in trials and "cli.csv" in trials and "real.csv" not in trials
    assert "正式导入" in imports and "试导入" in imports
    assert "将新增" in trials and "将新增" not in imports
    filtered = client.get(reverse("enterprises:import_list") + "?mode=trial&kind=census")
    assert "trial.csv" not in filtered.content.decode()


# --- Item 14: templates, the column list, units ---------------------------------------------


def _contract():
    """{kind: [(header, required)]} from the contract's tables (docs/import-formats.md)."""
    text = (Path(settings.BASE_DIR) / "docs" / "import-formats.md").read_text(encoding="utf-8")
    contract, kind = {}, None
    for line in text.splitlines():
        heading = re.match(r"### `(\w+)` —", line)
        more = re.match(r"### `(\w+)`: (two )?more optional columns", line)
        if heading:
            kind = heading[1]
            contract[kind] = []
        elif more:  # columns added to a kind later in the contract
            kind = more[1]
        elif line.startswith("### "):
            kind = None
        elif kind and line.startswith("| ") and not line.startswith(("| 中文列名", "|---")):
            cells = [c.strip() for c in line.strip("|").split("|")]
            contract[kind].append((cells[0], cells[2] == "yes"))
    return contract


KINDS = [str(kind) for kind in SPECS]


@pytest.mark.parametrize("kind", KINDS)
def test_the_template_of_every_kind_has_the_contract_headers(client, cast, kind):
    client.force_login(cast.staff)
    response = client.get(f"/enterprises/imports/template/{kind}.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment;" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    contract = _contract()[kind]
    assert list(rows[0]) == [header for header, _required in contract]
    assert len(rows) == 2  # the headers and one example row
    for cell, (_header, required) in zip(sheet[1], contract, strict=True):
        assert bool(cell.font.bold) is required
        assert (cell.comment is not None) is required
    # Codes typed into Excel stay text (a USCC would otherwise become 9.13E+17).
    for cell, column in zip(sheet[2], SPECS[kind].columns, strict=True):
        if column.sql_type == "text":
            assert cell.number_format == "@", column.cn
    assert workbook.worksheets[1].title == "填写说明"


@pytest.mark.parametrize("kind", KINDS)
def test_the_example_row_of_every_template_passes_a_dry_run(
    client, cast, kind, django_capture_on_commit_callbacks
):
    enterprise = make_enterprise(name="平阳示例有限公司")
    if kind == "feedback":  # a bank answers only on an enterprise it was assigned
        make_assignment(enterprise, cast.bank)
    client.force_login(cast.staff)
    response = client.get(reverse("enterprises:import_template", args=[kind]))
    upload = SimpleUploadedFile(f"{kind}.xlsx", response.content, content_type=XLSX)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("enterprises:import_upload"), {"kind": kind, "file": upload})
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.status == "dry_run", batch.message
    assert list(batch.errors.values_list("column", "reason")) == []
    assert (batch.rows_read, batch.rows_failed, batch.unknown_columns) == (1, 0, [])


def test_templates_need_the_import_right_and_a_known_kind(client, cast):
    client.force_login(cast.township)
    assert client.get(reverse("enterprises:import_template", args=["registry"])).status_code == 403
    client.force_login(cast.staff)
    assert client.get("/enterprises/imports/template/nothing.xlsx").status_code == 404


def test_the_upload_page_lists_the_columns_and_marks_the_required_ones(client, cast):
    client.force_login(cast.staff)
    body = client.get(reverse("enterprises:import_upload")).content.decode()
    assert reverse("enterprises:import_template", args=["registry"]) in body
    for column in SPECS["registry"].columns:
        marked = re.search(
            rf"<td[^>]*>{re.escape(column.cn)}</td>\s*<td><code>{column.alias}</code></td>\s*"
            r"<td>(.*?)</td>",
            body,
        )
        assert marked, column.cn
        assert ("必填" in marked[1]) is column.required, column.cn

    # The kind comes preselected from "fix the file and upload again".
    body = client.get(reverse("enterprises:import_upload") + "?kind=credit").content.decode()
    assert '<option value="credit" selected>' in body
    assert reverse("enterprises:import_template", args=["credit"]) in body
    assert re.search(
        r"贷款余额（万元）</td>\s*<td><code>loan_balance</code></td>\s*<td>.*必填", body
    )

    # Picking another kind swaps in its column list only.
    fragment = client.get(
        reverse("enterprises:import_upload") + "?kind=tax", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="import-columns">')
    assert "纳税信用等级" in fragment and "<form" not in fragment


def test_the_enterprise_page_states_the_unit_of_its_amounts(client, cast):
    enterprise = make_enterprise()
    client.force_login(cast.staff)
    body = client.get(reverse("enterprises:detail", args=[enterprise.pk])).content.decode()
    for header in ("授信金额（万元）", "贷款余额（万元）", "放款金额（万元）", "实缴税额（万元）"):
        assert header in body


def test_a_job_run_in_chinese_reads_in_english_for_an_english_reader(cast, tmp_path, client):
    """Steps and row-error reasons are saved in every language (core/i18n.py): a job that a
    worker ran in the site's language (Chinese) reads in English on an English page."""
    from django.utils import translation

    from core import jobs

    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, _bad_rows(10, 2))
    batch = ImportBatch.objects.create(
        kind="registry",
        file_name="r.csv",
        file_sha256="",
        stored_file=str(path),
        created_by=cast.staff,
        region_id="330326",
    )
    with translation.override("zh-hans"):
        job = jobs.run_now(
            "import.dry_run", user=cast.staff, params={"batch": batch.pk, "dry_run": True}
        )
    assert job.step == "试导入未通过：未写入任何数据。"
    client.force_login(cast.staff)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert "Trial import rejected: nothing was written." in body
    assert "试导入未通过" not in body
    reason = batch.errors.first().reason
    assert reason and reason not in body  # the Chinese reason …
    assert batch.errors.first().reason_translations["en"] in body  # … reads in English
    api = client.get(f"/api/v1/imports/{batch.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert api["errors"][0]["reason"] == batch.errors.first().reason_translations["en"]
