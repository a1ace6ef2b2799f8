"""The import pipeline: tolerant reading, exact values, all-or-nothing batches."""

from datetime import date
from decimal import Decimal

import pytest

from enterprises.importing import import_file
from enterprises.models import CensusRecord, Enterprise, ImportBatch, TaxRecord
from loans.models import CreditSnapshot, Loan
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_csv, write_xlsx
from tests.factories import LUCHENG_STREET, PINGYANG_TOWN, make_bank, make_enterprise, make_uscc

pytestmark = pytest.mark.django_db


def test_it_imports_a_gb18030_csv(tmp_path, regions):
    rows = registry_rows(3)
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows, encoding="gb18030")
    batch = import_file("registry", path)
    assert batch.status == "applied", batch.message
    assert batch.rows_created == 3
    assert Enterprise.objects.get(uscc=rows[0][0]).name == "企业0有限公司"


def test_it_imports_utf8_with_bom_and_english_aliases(tmp_path, regions):
    rows = registry_rows(2)
    header = ["USCC", "Name", "Established_On", "STATUS", " region_code "]
    path = write_csv(tmp_path / "r.csv", header, rows, encoding="utf-8-sig")
    batch = import_file("registry", path)
    assert batch.status == "applied", batch.message
    assert batch.rows_created == 2


def test_full_width_digits_and_spaces_are_normalised(tmp_path, regions):
    uscc = make_uscc()
    wide = uscc.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKLMNPQRTUWXY"})
    header = [
        "统一社会信用代码",
        "主体名称",
        "成立日期",
        "登记状态",
        "所在地区划代码",
        "注册资本（万元）",
    ]
    row = [
        f"\u3000{wide} ",
        "\u3000全角企业\u3000",
        "２０２０-０１-１５",
        "存续",
        PINGYANG_TOWN,
        "１２",
    ]
    batch = import_file("registry", write_csv(tmp_path / "r.csv", header, [row]))
    assert batch.status == "applied", list(batch.errors.values_list("reason", flat=True))
    enterprise = Enterprise.objects.get(uscc=uscc)
    assert enterprise.name == "全角企业"
    assert enterprise.established_on == date(2020, 1, 15)
    assert enterprise.registered_capital == Decimal("12")


@pytest.mark.parametrize(
    "text", ["2025-06-30", "2025/6/30", "2025.6.30", "20250630", "2025年6月30日", "45838"]
)
def test_every_date_form_is_read(tmp_path, regions, text):
    rows = registry_rows(1)
    rows[0][2] = text
    batch = import_file("registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows))
    assert batch.status == "applied", list(batch.errors.values_list("reason", flat=True))
    assert Enterprise.objects.get().established_on == date(2025, 6, 30)


def test_excel_serial_dates_and_date_cells_in_xlsx(tmp_path, regions):
    rows = registry_rows(2)
    rows[0][2] = 45838  # Excel serial for 2025-06-30
    rows[1][2] = date(2025, 6, 30)
    batch = import_file("registry", write_xlsx(tmp_path / "r.xlsx", REGISTRY_HEADER, rows))
    assert batch.status == "applied", list(batch.errors.values_list("reason", flat=True))
    assert set(Enterprise.objects.values_list("established_on", flat=True)) == {date(2025, 6, 30)}


def test_thousands_separators_and_yuan_headers(tmp_path, regions):
    rows = registry_rows(2)
    header = [*REGISTRY_HEADER, "注册资本(元)"]
    path = write_csv(tmp_path / "r.csv", header, [rows[0] + ["1,277,060"], rows[1] + ["500"]])
    assert import_file("registry", path).status == "applied"
    capital = Enterprise.objects.get(uscc=rows[0][0]).registered_capital
    assert capital == Decimal("127.706")
    header[-1] = "注册资本（万元）"
    rows = registry_rows(1)
    import_file("registry", write_csv(tmp_path / "s.csv", header, [rows[0] + ["1,277.06"]]))
    assert Enterprise.objects.get(uscc=rows[0][0]).registered_capital == Decimal("1277.06")


def test_a_wrong_check_digit_is_a_row_error(tmp_path, regions):
    rows = registry_rows(30)
    good = rows[4][0]
    rows[4][0] = good[:-1] + ("0" if good[-1] != "0" else "1")
    batch = import_file("registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows))
    assert batch.status == "applied"
    assert batch.rows_created == 29 and batch.rows_failed == 1
    error = batch.errors.get()
    assert (error.row_number, error.column, error.value) == (6, "统一社会信用代码", rows[4][0])
    assert "校验" in error.reason or "USCC" in error.reason
    assert not Enterprise.objects.filter(uscc=rows[4][0]).exists()


def test_entity_type_is_derived_from_the_uscc(tmp_path, regions):
    rows = [
        [make_uscc(prefix=p), f"主体{p}", "2020-01-01", "在业", PINGYANG_TOWN]
        for p in ("91", "92", "93")
    ]
    import_file("registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows))
    types = dict(Enterprise.objects.values_list("uscc", "entity_type"))
    assert [types[r[0]] for r in rows] == ["enterprise", "individual", "cooperative"]


def test_a_duplicate_key_names_the_first_row(tmp_path, regions):
    rows = registry_rows(30)
    rows.append(list(rows[2]))
    batch = import_file("registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows))
    error = batch.errors.get()
    assert error.row_number == 32
    assert "4" in error.reason  # the first occurrence is Excel row 4
    assert batch.rows_created == 30


def test_a_missing_required_column_rejects_the_file(tmp_path, regions):
    rows = [r[:4] for r in registry_rows(3)]
    batch = import_file("registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER[:4], rows))
    assert batch.status == "rejected"
    assert "所在地区划代码" in batch.message
    assert not Enterprise.objects.exists()


def test_an_over_threshold_batch_leaves_the_database_unchanged(tmp_path, regions):
    existing = make_enterprise(name="原名")
    rows = registry_rows(10)
    rows.append([existing.uscc, "新名", "2020-01-01", "存续", PINGYANG_TOWN])
    rows[0][2] = "not a date"
    rows[1][3] = "unknown"
    batch = import_file("registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows))
    assert batch.status == "rejected"
    assert batch.rows_failed == 2
    assert Enterprise.objects.count() == 1
    assert Enterprise.objects.get().name == "原名"
    assert batch.errors.count() == 2


def test_a_dry_run_counts_but_changes_nothing(tmp_path, regions):
    existing = make_enterprise(name="原名")
    rows = registry_rows(3)
    rows.append([existing.uscc, "新名", "2015-03-01", "在业", PINGYANG_TOWN])
    batch = import_file(
        "registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows), dry_run=True
    )
    assert batch.status == "dry_run"
    assert (batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (3, 1, 0)
    assert Enterprise.objects.count() == 1


def test_a_re_upload_is_refused_and_a_forced_one_is_idempotent(tmp_path, regions):
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(5))
    first = import_file("registry", path)
    assert first.status == "applied"
    stamps = dict(Enterprise.objects.values_list("uscc", "updated_at"))
    again = import_file("registry", path)
    assert again.status == "rejected"
    assert f"#{first.pk}" in again.message
    forced = import_file("registry", path, force=True)
    assert forced.status == "applied" and forced.forced
    assert (forced.rows_created, forced.rows_updated, forced.rows_unchanged) == (0, 0, 5)
    assert dict(Enterprise.objects.values_list("uscc", "updated_at")) == stamps
    assert set(Enterprise.objects.values_list("batch", flat=True)) == {first.pk}


def test_a_newer_snapshot_updates_only_changed_rows(tmp_path, regions):
    rows = registry_rows(4)
    import_file("registry", write_csv(tmp_path / "a.csv", REGISTRY_HEADER, rows))
    rows[0][1] = "改名有限公司"
    batch = import_file("registry", write_csv(tmp_path / "b.csv", REGISTRY_HEADER, rows))
    assert (batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (0, 1, 3)
    assert Enterprise.objects.get(uscc=rows[0][0]).batch_id == batch.pk


def test_out_of_scope_rows_are_rejected_for_county_staff(tmp_path, cast):
    rows = registry_rows(40)
    rows.append([make_uscc(region="330302"), "鹿城企业", "2020-01-01", "存续", LUCHENG_STREET])
    batch = import_file(
        "registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows), user=cast.staff
    )
    assert batch.status == "applied"
    assert batch.rows_created == 40
    error = batch.errors.get()
    assert error.value == LUCHENG_STREET
    assert not Enterprise.objects.filter(region_id=LUCHENG_STREET).exists()


def test_unknown_region_codes_and_twelve_digit_codes(tmp_path, regions):
    rows = registry_rows(30)
    rows[0][4] = PINGYANG_TOWN + "201"  # 12-digit village code → township
    rows[1][4] = "999999"
    batch = import_file("registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows))
    assert Enterprise.objects.get(uscc=rows[0][0]).region_id == PINGYANG_TOWN
    assert batch.errors.get().value == "999999"


def test_tax_and_census_match_enterprises_by_uscc(tmp_path, regions):
    enterprise = make_enterprise()
    unknown = make_uscc()
    tax = write_csv(
        tmp_path / "t.csv",
        ["统一社会信用代码", "纳税年度", "纳税信用等级", "实缴税额（万元）"],
        [[enterprise.uscc, "2024", "A", "1,234.5"], [unknown, "2024", "B", "1"]],
    )
    settings_rate = import_file("tax", tax)
    assert settings_rate.status == "rejected"  # 1 of 2 rows failed
    assert "未在登记" in settings_rate.errors.get().reason or settings_rate.errors.exists()
    census = write_csv(
        tmp_path / "c.csv",
        ["uscc", "census_year", "is_active", "主体名称"],
        [[enterprise.uscc, "2023", "否", "别名"]],
    )
    batch = import_file("census", census)
    assert batch.status == "applied"
    record = CensusRecord.objects.get()
    assert record.is_active is False and record.batch_id == batch.pk
    assert batch.errors.get().is_warning
    tax = write_csv(
        tmp_path / "t2.csv",
        ["统一社会信用代码", "纳税年度", "纳税信用等级", "实缴税额（万元）"],
        [[enterprise.uscc, "2024", "A", "1,234.5"]],
    )
    assert import_file("tax", tax).status == "applied"
    assert TaxRecord.objects.get().tax_paid == Decimal("1234.5")


def test_loans_check_banks_maturity_and_renewals(tmp_path, regions):
    enterprise = make_enterprise()
    bank = make_bank(code="B1")
    header = [
        "统一社会信用代码", "银行机构代码", "借据号", "放款日期", "到期日期",
        "放款金额（万元）", "产品类型", "担保方式", "是否无还本续贷", "原借据号",
    ]  # fmt: skip
    base = [
        enterprise.uscc,
        bank.code,
        "",
        "2025-01-01",
        "2026-01-01",
        "100",
        "流动资金贷款",
        "信用",
    ]
    rows = [[*base[:2], f"L{i}", *base[3:], "否", ""] for i in range(80)]
    rows.append([*base[:2], "R1", *base[3:], "是", "L0"])
    rows.append([*base[:2], "R2", *base[3:], "是", "NOPE"])
    rows.append([enterprise.uscc, "NOBANK", "X1", *base[3:], "否", ""])
    bad_dates = [enterprise.uscc, bank.code, "X2", "2025-01-01", "2024-01-01", *base[5:], "否", ""]
    rows.append(bad_dates)
    batch = import_file("loans", write_csv(tmp_path / "l.csv", header, rows))
    assert batch.status == "applied", batch.message
    assert batch.rows_created == 81
    assert sorted(batch.errors.values_list("row_number", flat=True)) == [83, 84, 85]
    renewal = Loan.objects.get(loan_no="R1")
    assert renewal.is_renewal and renewal.renews.loan_no == "L0"


def test_credit_snapshots_need_a_known_bank(tmp_path, regions):
    enterprise = make_enterprise()
    make_bank(code="B1")
    path = write_csv(
        tmp_path / "c.csv",
        ["统一社会信用代码", "银行机构代码", "数据日期", "贷款余额（万元）"],
        [[enterprise.uscc, "B1", "2025/6/30", "0"]],
    )
    assert import_file("credit", path).status == "applied"
    assert CreditSnapshot.objects.get().loan_balance == Decimal("0")


def test_banks_may_list_branches_before_their_institution(tmp_path, regions):
    path = write_csv(
        tmp_path / "b.csv",
        ["银行机构代码", "机构名称", "上级机构代码", "机构层级", "服务区域", "走访容量"],
        [
            ["BR1", "支行", "HQ", "支行", "330326;330302", "20"],
            ["HQ", "总行", "", "法人机构", "", ""],
        ],
    )
    batch = import_file("banks", path)
    assert batch.status == "applied", list(batch.errors.values_list("reason", flat=True))
    from banks.models import Bank

    branch = Bank.objects.get(code="BR1")
    assert branch.parent_id == "HQ"
    assert set(branch.service_regions.values_list("code", flat=True)) == {"330326", "330302"}


def test_unknown_columns_are_listed(tmp_path, regions):
    path = write_csv(
        tmp_path / "r.csv", [*REGISTRY_HEADER, "备注"], [[*r, "x"] for r in registry_rows(2)]
    )
    batch = import_file("registry", path)
    assert batch.unknown_columns == ["备注"]


def test_an_unreadable_file_is_rejected(tmp_path, regions):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip")
    batch = import_file("registry", path)
    assert batch.status == "rejected"
    assert ImportBatch.objects.get().status == "rejected"


def test_an_upload_over_the_size_limit_is_rejected(tmp_path, regions, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(2))
    assert import_file("registry", path).status == "rejected"
    assert not Enterprise.objects.exists()


def test_the_import_data_command_exits_zero_only_when_applied(tmp_path, regions, capsys):
    from django.core.management import CommandError, call_command

    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(2))
    with pytest.raises(CommandError) as exit_info:
        call_command("import_data", "registry", str(path), "--dry-run")
    assert exit_info.value.returncode == 1
    call_command("import_data", "registry", str(path))
    assert "created 2" in capsys.readouterr().out
    assert Enterprise.objects.count() == 2


@pytest.mark.postgres
def test_the_import_job_runs_a_stored_batch_in_chunks(tmp_path, regions, monkeypatch):
    """The Python path streams staged rows to PostgreSQL in COPY chunks (the fast path, which
    stages in SQL, is switched off so the chunked writer is the one at work)."""
    from core.jobs import run_now
    from enterprises.importing import pipeline, sqlpath

    monkeypatch.setattr(sqlpath, "supports", lambda spec: False)
    monkeypatch.setattr(pipeline._CopyWriter, "CHUNK", 7)
    chunks = []
    real_flush = pipeline._CopyWriter.flush

    def counting_flush(writer):
        if writer.lines:
            chunks.append(len(writer.lines))
        real_flush(writer)

    monkeypatch.setattr(pipeline._CopyWriter, "flush", counting_flush)
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(30))
    batch = ImportBatch.objects.create(
        kind="registry", file_name="r.csv", file_sha256="", stored_file=str(path)
    )
    job = run_now("import", params={"batch": batch.pk})
    assert job.status == "succeeded", job.error
    assert chunks == [7, 7, 7, 7, 2]
    assert job.counts["created"] == 30
    batch.refresh_from_db()
    assert batch.status == "applied" and batch.job_id == job.pk
    assert Enterprise.objects.count() == 30
    assert job.result_url.endswith(f"/imports/{batch.pk}/")


@pytest.mark.postgres
def test_an_import_job_whose_chunk_cannot_be_written_fails_and_writes_nothing(
    tmp_path, regions, monkeypatch
):
    from core.jobs import run_now
    from enterprises.importing import pipeline, sqlpath

    monkeypatch.setattr(sqlpath, "supports", lambda spec: False)
    monkeypatch.setattr(pipeline._CopyWriter, "CHUNK", 7)
    real_flush = pipeline._CopyWriter.flush
    flushes = []

    def failing_second_flush(writer):
        flushes.append(len(writer.lines))
        if len(flushes) == 2:
            raise OSError("connection to the database lost")
        real_flush(writer)

    monkeypatch.setattr(pipeline._CopyWriter, "flush", failing_second_flush)
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(30))
    batch = ImportBatch.objects.create(
        kind="registry", file_name="r.csv", file_sha256="", stored_file=str(path)
    )
    job = run_now("import", params={"batch": batch.pk})
    assert job.status == "failed"
    # The engine settles the batch and logs the cause; the job's log keeps it for admins.
    assert "OSError: connection to the database lost" in job.log
    assert "connection to the database lost" not in job.error
    assert ImportBatch.objects.get(pk=batch.pk).status == "failed"
    assert Enterprise.objects.count() == 0


@pytest.mark.postgres
def test_unchanged_rows_are_not_rewritten_at_all(tmp_path, regions):
    from django.db import connection

    rows = registry_rows(5)
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows)
    import_file("registry", path)

    def row_versions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT uscc, xmin::text FROM enterprises_enterprise ORDER BY uscc")
            return cursor.fetchall()

    before = row_versions()
    rows[0][1] = "改名有限公司"
    import_file("registry", write_csv(tmp_path / "s.csv", REGISTRY_HEADER, rows))
    after = row_versions()
    changed = [b[0] for b, a in zip(before, after, strict=True) if b[1] != a[1]]
    assert changed == [rows[0][0]]
