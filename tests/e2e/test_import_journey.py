"""Journey 1 — task-force staff: a registry file with bad rows, its dry run and row errors,
the error report, the fixed file, the job to 100%, the rebuilt lists and the run's diff."""

import re
import time

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import expect

from core.models import Job
from enterprises.models import Enterprise, ImportBatch, Region
from screening.choices import ChangeKind, ListType
from screening.models import ListChange, ScreeningRun
from screening.services import rebuild_region
from tests.e2e.conftest import PHONE, wait_for_job
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_xlsx
from tests.factories import PINGYANG, PINGYANG_TOWN, make_census, make_enterprise

pytestmark = pytest.mark.e2e

BAD_DATE_ROW = 5  # spreadsheet row numbers as the user sees them (header = row 1)
BAD_USCC_ROW = 9


def _existing_county():
    """Six census-active enterprises of 平阳县 and a current screening run that lists them."""
    enterprises = []
    for _ in range(6):
        enterprise = make_enterprise(PINGYANG_TOWN)
        make_census(enterprise)
        enterprises.append(enterprise)
    rebuild_region(Region.objects.get(code=PINGYANG))
    return enterprises


def _registry_files(tmp_path, existing):
    """The department's file (two bad rows) and the fixed one; the last known enterprise is
    deregistered (注销) in both, so it leaves the lists when the fixed file is imported."""
    known = [[e.uscc, e.name, "2015-03-01", "在业", PINGYANG_TOWN] for e in existing[:-1]] + [
        [existing[-1].uscc, existing[-1].name, "2015-03-01", "注销", PINGYANG_TOWN]
    ]
    fixed = registry_rows(34) + known
    bad = [list(row) for row in fixed]
    bad[BAD_DATE_ROW - 2][2] = "2025-13-45"
    uscc = bad[BAD_USCC_ROW - 2][0]
    bad[BAD_USCC_ROW - 2][0] = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")  # wrong check digit
    return (
        write_xlsx(tmp_path / "市场主体登记.xlsx", REGISTRY_HEADER, bad),
        write_xlsx(tmp_path / "市场主体登记-已更正.xlsx", REGISTRY_HEADER, fixed),
        len(fixed),
    )


def _upload(page, live_server, path):
    page.goto(f"{live_server.url}{reverse('enterprises:import_list')}")
    page.locator(f'a[href="{reverse("enterprises:import_upload")}"]').first.click()
    page.locator("select[name=kind]").select_option("registry")
    page.locator("input[type=file][name=file]").set_input_files(path)
    page.get_by_test_id("import-submit").click()
    job = wait_for_job(page)
    assert job.status == "succeeded", job.error
    batch = ImportBatch.objects.get(pk=job.params["batch"])
    # the job page leads to the batch: its dry-run summary and row errors
    page.locator(f'a[href="{reverse("enterprises:import_detail", args=[batch.pk])}"]').first.click()
    expect(page).to_have_url(re.compile(rf"/enterprises/imports/{batch.pk}/$"))
    return batch


def _wait_for_rebuild(after_pk, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.filter(kind="screening.rebuild", pk__gt=after_pk).first()
        if job is not None:
            return job
        time.sleep(0.5)
    raise AssertionError("no list rebuild was started after the import")


def test_import_with_bad_rows_then_fixed_file(page, live_server, login, shot, cast, tmp_path):
    existing = _existing_county()
    first_run = ScreeningRun.objects.get(is_current=True)
    bad_file, fixed_file, row_count = _registry_files(tmp_path, existing)
    login(page, cast.staff)

    # 1. the department's file: a dry run, two row errors, nothing written
    batch = _upload(page, live_server, bad_file)
    assert batch.status == "dry_run"
    assert (batch.rows_read, batch.rows_failed) == (row_count, 2)
    errors = page.get_by_test_id("import-row-errors").locator("tbody tr")
    expect(errors).to_have_count(2)
    shown = {}
    for i in range(2):
        cells = errors.nth(i).locator("td").all_inner_texts()
        shown[int(cells[0])] = cells
    assert sorted(shown) == [BAD_DATE_ROW, BAD_USCC_ROW]
    assert shown[BAD_DATE_ROW][2] == "2025-13-45"
    assert Enterprise.objects.count() == len(existing)

    # 2. the error report: the same rows, the file's own columns, the reasons shown on screen
    with page.expect_download() as download_info:
        page.locator(f'a[href="{reverse("enterprises:import_errors", args=[batch.pk])}"]').click()
    download = download_info.value
    assert download.suggested_filename.endswith(f"-errors-{batch.pk}.xlsx")
    download.save_as(tmp_path / download.suggested_filename)
    report = load_workbook(tmp_path / download.suggested_filename, read_only=True).active
    header, *lines = list(report.iter_rows(values_only=True))
    assert header[1 : 1 + len(REGISTRY_HEADER)] == tuple(REGISTRY_HEADER)
    assert [line[0] for line in lines] == [BAD_DATE_ROW, BAD_USCC_ROW]
    for line in lines:
        assert shown[line[0]][3] in line[-1]  # the reason on screen is in the report
    assert lines[0][3] == "2025-13-45"

    # 3. the fixed file: a clean dry run, confirmed, the import job to 100%
    batch = _upload(page, live_server, fixed_file)
    assert batch.status == "dry_run"
    assert (batch.rows_failed, batch.rows_created, batch.rows_updated) == (0, 34, 1)
    expect(page.get_by_test_id("import-row-errors")).to_have_count(0)
    page.get_by_test_id("import-confirm").click()
    job = wait_for_job(page)
    assert job.status == "succeeded", job.error
    batch.refresh_from_db()
    assert batch.status == "applied"
    assert Enterprise.objects.count() == len(existing) + 34

    # 4. the lists are rebuilt after the import: its job to 100% from the jobs page
    rebuild = _wait_for_rebuild(job.pk)
    page.goto(f"{live_server.url}{reverse('core:job_list')}")
    page.locator(f'a[href="{reverse("core:job_detail", args=[rebuild.pk])}"]').first.click()
    rebuild = wait_for_job(page)
    assert rebuild.status == "succeeded", rebuild.error
    run = ScreeningRun.objects.get(is_current=True)
    assert run.pk != first_run.pk and run.previous_id == first_run.pk

    # 5. the rebuilt active list: five enterprises, the deregistered one gone
    page.goto(f"{live_server.url}{reverse('screening:index')}?list=active")
    members = page.locator(f'tbody a[href^="{reverse("enterprises:list")}"]')
    expect(members).to_have_count(5)
    assert sorted(members.all_inner_texts()) == sorted(e.name for e in existing[:-1])

    # 6. the run's diff: the deregistered enterprise left the active list and the lists built
    # on it (no-loan, key visit); nobody else changed
    page.locator(f'a[href="{reverse("screening:run_list")}"]').first.click()
    page.locator(f'a[href="{reverse("screening:run_detail", args=[run.pk])}"]').first.click()
    gone = existing[-1]
    changes = ListChange.objects.filter(run=run)
    assert set(changes.values_list("enterprise_id", "change")) == {(gone.pk, ChangeKind.LEFT)}
    left_lists = set(changes.values_list("list_type", flat=True))
    assert {ListType.ACTIVE, ListType.NO_LOAN} <= left_lists
    rows = page.locator("tbody tr").filter(
        has=page.locator(f'a[href="{reverse("enterprises:detail", args=[gone.pk])}"]')
    )
    expect(rows).to_have_count(len(left_lists))
    expect(page.locator("tbody tr")).to_have_count(len(left_lists))
    texts = rows.all_inner_texts()
    assert all(str(ChangeKind.LEFT.label) in text for text in texts)
    for list_type in left_lists:
        assert any(str(ListType(list_type).label) in text for text in texts), list_type
    shot(page, "journey1-run-diff")

    # the rebuilt lists on a phone
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{reverse('screening:index')}?list=active")
    shot(page, "journey1-lists-phone")
