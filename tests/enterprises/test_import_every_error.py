"""Issue 12 item 15: every error of a row is reported (one line per error)."""

import pytest

from enterprises.importing import import_file
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_csv, write_xlsx
from tests.factories import make_bank, make_enterprise

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("writer", [write_csv, write_xlsx])
def test_a_bad_region_code_is_reported_beside_the_rows_other_errors(tmp_path, regions, writer):
    rows = registry_rows(40)
    rows[3][2] = "2025-13-45"  # a bad date …
    rows[3][4] = "330399999"  # … and an unknown region code in the same row
    suffix = "csv" if writer is write_csv else "xlsx"
    batch = import_file("registry", writer(tmp_path / f"r.{suffix}", REGISTRY_HEADER, rows))
    assert batch.status == "applied", batch.message
    assert batch.rows_failed == 1
    errors = [(e.row_number, e.column, e.value) for e in batch.errors.order_by("id")]
    assert errors == [(5, "成立日期", "2025-13-45"), (5, "所在地区划代码", "330399999")]
    assert batch.errors.order_by("id").last().reason == "区划代码不存在。"


def test_every_loan_check_is_reported_beside_a_bad_cell(tmp_path, regions):
    enterprise = make_enterprise()
    make_bank(code="B1")
    header = [
        "统一社会信用代码", "银行机构代码", "借据号", "放款日期", "到期日期",
        "放款金额（万元）", "产品类型", "担保方式",
    ]  # fmt: skip
    rows = [[enterprise.uscc, "NOBANK", "L1", "2025-01-01", "2024-01-01", "-5", "未知", "信用"]]
    batch = import_file("loans", write_csv(tmp_path / "l.csv", header, rows))
    assert [e.column for e in batch.errors.order_by("id")] == [
        "产品类型",
        "银行机构代码",
        "到期日期",
        "放款金额(万元)",  # the header as read: full-width brackets become half-width
    ]
