"""Personal data (legal representative, phone) masked at every door for users without the
personal-data right: regulator, partner, and an importer without that right."""

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.translation import override
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token

from accounts.choices import Role
from enterprises.models import ImportBatch
from enterprises.services.privacy import mask_name, mask_phone
from tests.enterprises.helpers import write_csv
from tests.factories import PINGYANG, make_census, make_enterprise, make_uscc, make_user
from tests.screening.helpers import rebuild

pytestmark = pytest.mark.django_db


# --- The rule, for every length ------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "*******5678"),
        ("63612345", "****2345"),
        ("6361234", "****234"),
        ("123", "**3"),
        ("12", "*2"),
        ("1", "*"),
        ("0577-63612345", "****-****2345"),
        ("", ""),
    ],
)
def test_phone_masking_examples(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("length", range(1, 21))
def test_a_phone_of_any_length_shows_at_most_four_digits_and_at_most_half(length):
    phone = "".join(str((7 + i) % 10) for i in range(length))
    masked = mask_phone(phone)
    shown = sum(ch.isdigit() for ch in masked)
    assert len(masked) == length
    assert shown <= 4 and shown * 2 <= length
    assert masked.endswith(phone[len(phone) - shown :] if shown else "*")


@pytest.mark.parametrize(
    ("name", "masked"), [("张三丰", "张**"), ("欧阳娜娜", "欧***"), ("张三", "张*"), ("张", "*")]
)
def test_name_masking_keeps_only_the_first_character(name, masked):
    assert mask_name(name) == masked


# --- Pages and API --------------------------------------------------------------------------


@pytest.fixture
def importer(cast):
    """May import in 平阳县 but has no personal-data right."""
    return make_user("importer", Role.PARTNER, region=PINGYANG, api_scopes="view,import")


def detail_value(body, label):
    with override("zh-hans"):
        text = re.escape(str(label))
    match = re.search(text + r'</dt><dd class="col-sm-8">(.*?)</dd>', body)
    return match.group(1)


@pytest.mark.parametrize("who", ["regulator", "partner"])
@pytest.mark.parametrize(
    ("legal_rep", "phone", "masked_rep", "masked_phone"),
    [("张", "6361234", "*", "****234"), ("李四", "63612345", "李*", "****2345")],
)
def test_page_and_api_mask_short_names_and_phones(
    client, cast, who, legal_rep, phone, masked_rep, masked_phone
):
    firm = make_enterprise(legal_rep=legal_rep, phone=phone)
    user = getattr(cast, who)
    client.force_login(user)
    body = client.get(reverse("enterprises:detail", args=[firm.pk])).content.decode()
    assert detail_value(body, "法定代表人") == masked_rep
    assert detail_value(body, "联系电话") == masked_phone
    assert phone not in body

    token = Token.objects.create(user=user)
    client.logout()
    row = client.get(
        f"/api/v1/enterprises/{firm.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}"
    ).json()
    assert (row["legal_rep"], row["phone"]) == (masked_rep, masked_phone)
    listed = client.get("/api/v1/enterprises/", HTTP_AUTHORIZATION=f"Token {token.key}").json()[
        "results"
    ]
    assert [(r["legal_rep"], r["phone"]) for r in listed] == [(masked_rep, masked_phone)]


def test_task_force_sees_short_names_and_phones_whole(client, cast):
    firm = make_enterprise(legal_rep="张", phone="6361234")
    client.force_login(cast.staff)
    body = client.get(reverse("enterprises:detail", args=[firm.pk])).content.decode()
    assert detail_value(body, "法定代表人") == "张"
    assert detail_value(body, "联系电话") == "6361234"


def test_the_list_export_carries_no_personal_data(client, cast):
    firm = make_enterprise(legal_rep="王五", phone="13900001111")
    make_census(firm, census_year=2023)
    rebuild()
    client.force_login(cast.regulator)
    response = client.get(reverse("screening:export"), {"list": "active"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    assert firm.uscc in cells
    assert not any("王五" in c or "1390000" in c or "1111" in c for c in cells)


# --- Import errors: detail page, error report, API ------------------------------------------

HEADER = [
    "统一社会信用代码",
    "主体名称",
    "法定代表人",
    "联系电话",
    "成立日期",
    "登记状态",
    "所在地区划代码",
]
LONG_NAME = "赵" * 101  # too long: a row error whose value is the legal representative
LONG_PHONE = "1" * 51


@pytest.fixture
def staff_batch(client, cast, tmp_path, django_capture_on_commit_callbacks):
    """A dry run uploaded by county staff, with errors on rows holding personal data."""
    rows = [
        [make_uscc(), "好企业", "钱七", "13712345678", "2020-01-15", "存续", "330326100"],
        [make_uscc(), "坏日期", "孙八", "13612345678", "not a date", "存续", "330326100"],
        [make_uscc(), "长名字", LONG_NAME, "6361234", "2020-01-15", "存续", "330326100"],
        [make_uscc(), "长电话", "周", LONG_PHONE, "2020-01-15", "存续", "330326100"],
    ]
    path = write_csv(tmp_path / "r.csv", HEADER, rows)
    client.force_login(cast.staff)
    upload = SimpleUploadedFile("r.csv", path.read_bytes(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("enterprises:import_upload"), {"kind": "registry", "file": upload})
    client.logout()
    batch = ImportBatch.objects.get()
    assert batch.rows_failed == 3  # rejected: more than 5% of the rows fail
    return batch


def report_cells(client, batch):
    response = client.get(reverse("enterprises:import_errors", args=[batch.pk]))
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


SECRETS = ("孙八", "13612345678", "6361234", "钱七", LONG_NAME, LONG_PHONE)


def test_the_error_report_masks_personal_columns_for_an_importer_without_the_right(
    client, importer, staff_batch
):
    client.force_login(importer)
    rows = report_cells(client, staff_batch)
    assert rows[0][3:5] == ("法定代表人", "联系电话")
    by_row = {r[0]: r for r in rows[1:]}
    assert sorted(by_row) == [3, 4, 5]
    assert by_row[3][3:5] == ("孙*", "*******5678")
    assert by_row[4][3:5] == ("赵" + "*" * 100, "****234")
    assert by_row[5][3:5] == ("*", "*" * 47 + "1111")
    assert by_row[3][2] == "坏日期"  # other columns as uploaded
    flat = [str(v) for r in rows for v in r]
    assert not any(secret in cell for secret in SECRETS for cell in flat)


def test_the_error_report_without_the_file_masks_the_error_values(client, importer, staff_batch):
    Path(staff_batch.stored_file).unlink()
    client.force_login(importer)
    rows = report_cells(client, staff_batch)
    values = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert values[(4, "法定代表人")] == "赵" + "*" * 100
    assert values[(5, "联系电话")] == "*" * 47 + "1111"
    assert values[(3, "成立日期")] == "not a date"


def test_the_import_page_masks_error_values(client, importer, staff_batch):
    client.force_login(importer)
    body = client.get(reverse("enterprises:import_detail", args=[staff_batch.pk])).content.decode()
    assert LONG_NAME not in body and LONG_PHONE not in body
    assert "赵" + "*" * 100 in body and "*" * 47 + "1111" in body


def test_the_import_api_masks_error_values(client, importer, staff_batch):
    token = Token.objects.create(user=importer)
    data = client.get(
        f"/api/v1/imports/{staff_batch.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}"
    ).json()
    values = {(e["row_number"], e["column"]): e["value"] for e in data["errors"]}
    assert values[(4, "法定代表人")] == "赵" + "*" * 100
    assert values[(5, "联系电话")] == "*" * 47 + "1111"
    assert values[(3, "成立日期")] == "not a date"


def test_staff_with_the_right_read_error_values_whole(client, cast, staff_batch):
    client.force_login(cast.staff)
    rows = report_cells(client, staff_batch)
    assert {r[0]: r[3] for r in rows[1:]}[3] == "孙八"
    data = client.get(f"/api/v1/imports/{staff_batch.pk}/").json()
    assert LONG_PHONE in [e["value"] for e in data["errors"]]


# --- Error report: control characters and formulas ------------------------------------------


def test_the_error_report_survives_control_characters_and_neutralises_formulas(
    client, cast, tmp_path
):
    # A file with control characters, as uploaded; the batch and its errors are written
    # directly (how the import engine treats such files is not this test's concern; a file
    # with NUL bytes is refused as binary before any report).
    rows = [
        [make_uscc(), "零\x02字节\x01企业", "吴九", "", "bad\x03date", "存续", "330326100"],
        [make_uscc(), '=HYPERLINK("x")', "@SUM(1)", "+1-2", "-1", "存续", "330326100"],
    ]
    # ordinary rows after them, as in a real file (a file mostly of control bytes is binary)
    rows += [
        [make_uscc(), f"普通企业{i}", "", "", "2020-01-01", "存续", "330326100"] for i in range(30)
    ]
    path = write_csv(tmp_path / "nul.csv", HEADER, rows)
    batch = ImportBatch.objects.create(
        kind="registry",
        file_name="nul.csv",
        file_sha256="0" * 64,
        stored_file=str(path),
        status="rejected",
        created_by=cast.staff,
        region_id=PINGYANG,
    )
    batch.errors.create(row_number=2, column="成立日期", value="bad\x01date", reason="Not a date.")
    batch.errors.create(row_number=3, column="成立日期", value="-1", reason="=Not a date.")
    client.force_login(cast.staff)
    rows = report_cells(client, batch)
    by_row = {r[0]: r for r in rows[1:]}
    assert by_row[2][2] == "零\ufffd字节\ufffd企业"
    assert by_row[2][5] == "bad\ufffddate"
    assert by_row[3][2:6] == ('\'=HYPERLINK("x")', "'@SUM(1)", "'+1-2", "'-1")
    assert by_row[3][-1] == "[成立日期] =Not a date."  # "[" first: not a formula

    path.unlink()  # the report from the stored errors alone
    values = {(r[0], r[1]): r[2:] for r in report_cells(client, batch)[1:]}
    assert values[(2, "成立日期")] == ("bad\ufffddate", "Not a date.")
    assert values[(3, "成立日期")] == ("'-1", "'=Not a date.")
