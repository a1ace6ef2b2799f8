"""The PostgreSQL fast path (sqlpath.py) reads a file exactly as the Python path does.

Each test imports the same messy file twice, once through each path (the Python path is forced
by switching the fast path off), and compares the typed values written and the row errors.
"""

import csv
import zipfile
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from enterprises.importing import import_file, sqlpath
from enterprises.importing.normalise import USCC_ALPHABET
from enterprises.models import Enterprise
from tests.enterprises.helpers import write_xlsx
from tests.factories import LUCHENG_STREET, PINGYANG_TOWN, make_enterprise, make_uscc

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HEADER = [
    "统一社会信用代码", "主体名称", "成立日期", "登记状态", "所在地区划代码",
    "注册资本(元)", "从业人数", "行业代码", "企业规模", "主体类型", "备注",
]  # fmt: skip
WIDE = {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKLMNPQRTUWXY"}


def messy_rows():
    """Every tolerated form, and every kind of row error, one row each."""
    codes = [make_uscc(prefix=("91", "92", "93")[i % 3]) for i in range(40)]
    bad_check = codes[30][:-1] + ("0" if codes[30][-1] != "0" else "1")
    rows = [
        [codes[0], "普通企业", "2025-06-30", "存续", PINGYANG_TOWN, "1,277,060", "12", "C3429", "小型", "企业", "x"],
        [f"\u3000{codes[1].translate(WIDE)} ", "\u3000全角企业\u3000", "２０２０-０１-１５", "在业", PINGYANG_TOWN, "１２", "", "3429", "", "", ""],
        [codes[2], "斜杠日期", "2025/6/30", "surviving", PINGYANG_TOWN + "201", "500", "1,000", "c3429", "微型", "", ""],
        [codes[3], "点日期（分公司）", "2025.6.30", "吊销", PINGYANG_TOWN, "", "12.0", "", "", "个体工商户", ""],
        [codes[4], "八位日期", "20250630", "注销", PINGYANG_TOWN, "-5", "", "C", "", "", ""],
        [codes[5], "中文日期", "2025年6月30日", "停业", PINGYANG_TOWN, "1e3", "", "", "中型", "", ""],
        [codes[6], "序列\u3000日期", "45838", "迁出", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[7], "日期时间", "2025-06-30 00:00:00", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[8].lower(), "小写代码", "2020-01-01", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[9][:6] + "-" + codes[9][6:], "带横线代码", "2020-1-1", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[10], "空格日期", "2025 - 6 - 30", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[11], "ISO 周日期", "2025-W01-1", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[12], "无效日期", "2025-02-30", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[13], "不是日期", "not a date", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[14], "序列零", "0", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[15], "未知状态", "2020-01-01", "unknown", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[16], "未知区划", "2020-01-01", "存续", "999999", "", "", "", "", "", ""],
        [codes[17], "区划位数", "2020-01-01", "存续", "33032", "", "", "", "", "", ""],
        [codes[18], "负人数", "2020-01-01", "存续", PINGYANG_TOWN, "", "-1", "", "", "", ""],
        [codes[19], "小数人数", "2020-01-01", "存续", PINGYANG_TOWN, "", "1.5", "", "", "", ""],
        [codes[20], "行业代码错", "2020-01-01", "存续", PINGYANG_TOWN, "", "", "CC3429", "", "", ""],
        [codes[21], "x" * 201, "2020-01-01", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[22], "   ", "2020-01-01", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[23], "太大", "2020-01-01", "存续", PINGYANG_TOWN, "1" * 20, "", "", "", "", ""],
        [codes[24], "不是数字", "2020-01-01", "存续", PINGYANG_TOWN, "abc", "abc", "", "", "", ""],
        ["", "", "", "", "", "", "", "", "", "", ""],  # blank row: skipped
        ["", "", "", "", "", "", "", "", "", "", "只有备注"],  # not blank: required errors
        [codes[25][:17], "短代码", "2020-01-01", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [bad_check, "校验位错", "2020-01-01", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[0], "重复", "2020-01-01", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[1], "全角重复", "2020-01-01", "存续", PINGYANG_TOWN, "", "", "", "", "", ""],
        [codes[26], "外区", "2020-01-01", "存续", LUCHENG_STREET, "", "", "", "", "", ""],
        [codes[27], "标签大小写", "2020-01-01", "SURVIVING", PINGYANG_TOWN, "", "", "", "", "OTHER", ""],
        [codes[28], "土耳其大写", "2020-01-01", "SURV\u0130V\u0130NG", PINGYANG_TOWN, "", "", "", "", "", ""],
    ]  # fmt: skip
    rows += [
        [c, f"正常{i}", "2021-03-04", "存续", PINGYANG_TOWN] + [""] * 6
        for i, c in enumerate(codes[31:])
    ]
    return rows


def outcome(batch):
    errors = sorted(
        batch.errors.values_list("row_number", "column", "value", "reason", "is_warning")
    )
    counts = (batch.status, batch.rows_read, batch.rows_created, batch.rows_updated,
              batch.rows_unchanged, batch.rows_failed, batch.unknown_columns)  # fmt: skip
    fields = ["uscc", "name", "entity_type", "established_on", "status", "region_id",
              "registered_capital", "employees", "industry_code", "size", "legal_rep"]  # fmt: skip
    values = sorted(Enterprise.objects.values_list(*fields))
    return counts, errors, values


def both_paths(monkeypatch, make_file, fallback=False, **options):
    """(fast path outcome, Python path outcome) of importing the same file.

    ``fallback``: whether the fast path must hand the file over to Python (raise
    ``Unavailable``) or stage it itself; either way it is checked, so a test never compares
    the Python path with itself by accident.
    """
    seen = []
    real_stage = sqlpath.stage

    def spy(run):
        try:
            result = real_stage(run)
        except sqlpath.Unavailable:
            seen.append("fell back")
            raise
        seen.append("staged")
        return result

    monkeypatch.setattr(sqlpath, "stage", spy)
    fast = import_file("registry", make_file("fast"), force=True, **options)
    assert seen == ["fell back" if fallback else "staged"]
    fast_outcome = outcome(fast)
    Enterprise.objects.all().delete()
    monkeypatch.setattr(sqlpath, "supports", lambda spec: False)
    slow = import_file("registry", make_file("slow"), force=True, **options)
    return fast_outcome, outcome(slow)


def write_csv(path, rows, encoding="utf-8", delimiter=","):
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(
    "encoding,delimiter", [("utf-8", ","), ("utf-8-sig", ","), ("gb18030", ","), ("utf-8", ";")]
)
def test_messy_csv_reads_the_same_on_both_paths(
    tmp_path, regions, monkeypatch, settings, encoding, delimiter
):
    settings.IMPORT_MAX_ERROR_RATE = 1.0
    rows = messy_rows()
    fast, slow = both_paths(
        monkeypatch, lambda tag: write_csv(tmp_path / f"{tag}.csv", rows, encoding, delimiter)
    )
    assert fast == slow
    counts, errors, values = fast
    assert counts[0] == "applied" and counts[2] > 10 and len(errors) > 20
    by_uscc = {v[0]: v for v in values}
    first = by_uscc[rows[0][0]]
    assert str(first[6]) == "127.706000" and first[3] == date(2025, 6, 30)


def test_county_staff_see_the_same_region_errors(tmp_path, cast, monkeypatch, settings):
    settings.IMPORT_MAX_ERROR_RATE = 1.0
    rows = messy_rows()
    fast, slow = both_paths(
        monkeypatch, lambda tag: write_csv(tmp_path / f"{tag}.csv", rows), user=cast.staff
    )
    assert fast == slow
    assert fast[1]  # the Lucheng row is outside the Pingyang staff member's region


def test_existing_enterprises_are_updated_the_same(tmp_path, regions, monkeypatch, settings):
    settings.IMPORT_MAX_ERROR_RATE = 1.0
    rows = messy_rows()
    make_enterprise(uscc=rows[0][0], name="旧名")

    def make_file(tag):
        if not Enterprise.objects.filter(uscc=rows[0][0]).exists():
            make_enterprise(uscc=rows[0][0], name="旧名")
        return write_csv(tmp_path / f"{tag}.csv", rows)

    fast, slow = both_paths(monkeypatch, make_file)
    assert fast == slow
    assert fast[0][3] == 1  # updated


def test_messy_xlsx_reads_the_same_on_both_paths(tmp_path, regions, monkeypatch, settings):
    settings.IMPORT_MAX_ERROR_RATE = 1.0
    rows = messy_rows()
    rows[0][2] = datetime(2025, 6, 30, 0, 0)  # date cells, serial numbers, number cells
    rows[1][2] = date(2020, 1, 15)
    rows[2][2] = 45838
    rows[3][2] = 45838.0
    rows[4][5] = 1277.06
    rows[5][6] = 12.0
    rows[6][1] = 12345
    rows[7][4] = int(PINGYANG_TOWN)
    fast, slow = both_paths(
        monkeypatch, lambda tag: write_xlsx(tmp_path / f"{tag}.xlsx", HEADER, rows)
    )
    assert fast == slow
    assert fast[0][0] == "applied"


@pytest.mark.parametrize(
    "damage",
    [
        "stray_quote",  # PostgreSQL's CSV parser would read it differently: Python path
        "ragged_row",  # a row with fewer cells: COPY refuses, Python pads it
        "bad_bytes",  # bytes invalid in the detected encoding: Python replaces them
        "cr_line_ends",  # old Mac line ends: Python's csv reads them, COPY would not
    ],
)
def test_files_the_fast_path_refuses_fall_back_to_python(
    tmp_path, regions, monkeypatch, settings, damage
):
    settings.IMPORT_MAX_ERROR_RATE = 1.0
    rows = messy_rows()

    def make_file(tag):
        path = write_csv(tmp_path / f"{tag}.csv", rows)
        data = path.read_bytes()
        if damage == "stray_quote":
            data = data.replace("普通企业".encode(), '普通"企业'.encode())
        elif damage == "ragged_row":
            data = data.replace(b",x\r\n", b"\r\n")
        elif damage == "bad_bytes":
            data = data.replace("普通企业".encode(), b"\xff\xfe")
        else:
            data = data.replace(b"\r\n", b"\r")
        path.write_bytes(data)
        return path

    fast, slow = both_paths(monkeypatch, make_file, fallback=True)
    assert fast == slow


def test_an_unusual_xlsx_cell_falls_back_to_python(tmp_path, regions, monkeypatch, settings):
    settings.IMPORT_MAX_ERROR_RATE = 1.0
    rows = messy_rows()
    rows[0][9] = True  # a boolean cell: each converter reads it its own way
    fast, slow = both_paths(
        monkeypatch, lambda tag: write_xlsx(tmp_path / f"{tag}.xlsx", HEADER, rows), fallback=True
    )
    assert fast == slow


# --- The SQL USCC check agrees with python-stdnum -------------------------------------------

BODY = st.text(alphabet="0123456789", min_size=8, max_size=8).flatmap(
    lambda head: st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9).map(lambda t: head + t)
)
CODES = st.one_of(
    BODY.map(lambda body: body + stdnum_uscc.calc_check_digit(body)),  # valid
    st.tuples(BODY, st.sampled_from(USCC_ALPHABET)).map("".join),  # any check character
    st.text(alphabet=USCC_ALPHABET + "IOSVZ", min_size=16, max_size=19),  # odd letters, lengths
    st.text(min_size=18, max_size=18),  # anything at all, incl. non-ASCII
)


def sql_uscc_valid(codes):
    from django.db import connection

    query = (
        f"SELECT {sqlpath.uscc_is_valid_sql('code')} FROM unnest(%s::text[]) "
        "WITH ORDINALITY AS t(code, n) ORDER BY n"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, (codes,))
        return [valid for (valid,) in cursor.fetchall()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CODES, min_size=1, max_size=40))
def test_sql_uscc_check_agrees_with_stdnum(codes):
    codes = [c.replace("\x00", "") for c in codes]  # PostgreSQL text holds no NUL
    # The check takes a cleaned, upper-case code, as the importer gives it; stdnum would
    # clean it first, so compare on codes that cleaning leaves as they are.
    codes = [c for c in codes if c == stdnum_uscc.compact(c)] or ["91330326000000001X"]
    assert sql_uscc_valid(codes) == [stdnum_uscc.is_valid(c) for c in codes]


def test_the_zip_directory_is_still_checked_on_the_fast_path(tmp_path, regions):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w") as out:
        out.writestr("xl/workbook.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]>')
    assert import_file("registry", bomb).status == "rejected"


def test_other_triggers_keep_the_fk_triggers_on(tmp_path, regions):
    """Foreign-key triggers are skipped only when they are the table's only triggers."""
    from django.db import connection

    from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows
    from tests.enterprises.helpers import write_csv as write_plain_csv

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE fired (uscc text)")
        cursor.execute(
            "CREATE FUNCTION rongxie_test_fired() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN INSERT INTO fired VALUES (NEW.uscc); RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER rongxie_test_fired AFTER INSERT ON enterprises_enterprise "
            "FOR EACH ROW EXECUTE FUNCTION rongxie_test_fired()"
        )
    path = write_plain_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(3))
    assert import_file("registry", path).status == "applied"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM fired")
        assert cursor.fetchone()[0] == 3


def test_many_rows_for_the_python_converters(tmp_path, regions, monkeypatch, settings):
    """Thousands of rows SQL leaves to Python (lower-case USCCs): fetched and staged in chunks."""
    from enterprises.importing import pipeline

    monkeypatch.setattr(pipeline._CopyWriter, "CHUNK", 1000)  # COPYs between the fetches
    settings.IMPORT_MAX_ERROR_RATE = 1.0
    rows = [
        [make_uscc().lower(), f"企业{i}", "2020/1/2", "存续", PINGYANG_TOWN] + [""] * 6
        for i in range(5000)
    ]
    rows[10][2] = "bad date"
    fast, slow = both_paths(monkeypatch, lambda tag: write_csv(tmp_path / f"{tag}.csv", rows))
    assert fast == slow
    assert fast[0][2] == 4999 and len(fast[1]) == 1
