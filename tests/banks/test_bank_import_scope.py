"""Issue 10 item 2: who may change which bank through the `banks` import, and no tree cycles."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from banks.models import Bank
from enterprises.importing import import_file
from tests.enterprises.helpers import write_csv
from tests.factories import LUCHENG, PINGYANG, make_bank

pytestmark = pytest.mark.django_db

HEADER = ["银行机构代码", "机构名称", "上级机构代码", "服务区域"]


@pytest.fixture
def tree(cast):
    """PY-HEAD (institution) → PY-BR (serves 平阳县) and LC-BR (serves 鹿城区)."""
    cast.bank.service_regions.set([PINGYANG])
    lucheng = make_bank(code="LC-BR", name="温州银行鹿城支行", parent=cast.bank.parent)
    lucheng.service_regions.set([LUCHENG])
    return cast


def _import(tmp_path, rows, user, header=HEADER):
    return import_file("banks", write_csv(tmp_path / "b.csv", header, rows), user=user)


def _reasons(batch):
    return [(e.row_number, str(e.reason)) for e in batch.errors.order_by("row_number", "id")]


def test_county_staff_may_not_rename_another_countys_branch(tmp_path, tree):
    batch = _import(tmp_path, [["LC-BR", "=HYPERLINK(1)", "PY-HEAD", PINGYANG]], tree.staff, HEADER)
    assert batch.status == "rejected"
    assert not Bank.objects.filter(name__startswith="=").exists()
    assert Bank.objects.get(code="LC-BR").name == "温州银行鹿城支行"
    assert set(Bank.objects.get(code="LC-BR").service_regions.values_list("code", flat=True)) == {
        LUCHENG
    }


def test_county_staff_may_not_take_over_a_branch_by_replacing_its_regions(tmp_path, tree):
    batch = _import(tmp_path, [["LC-BR", "改名", "PY-HEAD", PINGYANG]], tree.staff)
    assert _reasons(batch) == [
        (2, "该银行机构还服务于您辖区以外的地区，您不能修改它。"),
    ]
    assert Bank.objects.get(code="LC-BR").name == "温州银行鹿城支行"


def test_county_staff_change_a_branch_serving_their_county(tmp_path, tree):
    batch = _import(tmp_path, [["PY-BR", "温州银行平阳新支行", "PY-HEAD", "330326100"]], tree.staff)
    assert batch.status == "applied", _reasons(batch)
    branch = Bank.objects.get(code="PY-BR")
    assert branch.name == "温州银行平阳新支行"
    assert list(branch.service_regions.values_list("code", flat=True)) == ["330326100"]


def test_county_staff_may_not_list_regions_outside_their_county(tmp_path, tree):
    batch = _import(tmp_path, [["PY-BR", "温州银行平阳支行", "PY-HEAD", LUCHENG]], tree.staff)
    assert _reasons(batch) == [(2, "不在您的辖区内。")]
    assert list(Bank.objects.get(code="PY-BR").service_regions.values_list("code", flat=True)) == [
        PINGYANG
    ]


def test_only_city_staff_change_the_branch_tree(tmp_path, tree):
    rows = [["PY-BR", "温州银行平阳支行", "RA-BR", PINGYANG]]
    batch = _import(tmp_path, rows, tree.staff)
    assert _reasons(batch) == [(2, "只有市级工作专班人员或管理员可以调整机构隶属关系。")]
    assert Bank.objects.get(code="PY-BR").parent_id == "PY-HEAD"

    batch = _import(tmp_path, rows, tree.city_staff)
    assert batch.status == "applied", _reasons(batch)
    assert Bank.objects.get(code="PY-BR").parent_id == "RA-BR"


def test_only_city_staff_create_or_rename_institutions(tmp_path, tree):
    header = ["银行机构代码", "机构名称", "上级机构代码"]
    for row in (["PY-HEAD", "改名银行", ""], ["NEW-HQ", "新银行", ""]):
        batch = _import(tmp_path, [row], tree.staff, header)
        assert _reasons(batch) == [
            (2, "只有市级工作专班人员或管理员可以新建或修改法人机构（没有上级机构的银行）。")
        ]
    assert Bank.objects.get(code="PY-HEAD").name == "温州银行"
    assert not Bank.objects.filter(code="NEW-HQ").exists()

    batch = _import(tmp_path, [["PY-HEAD", "温州银行股份有限公司", ""]], tree.city_staff, header)
    assert batch.status == "applied", _reasons(batch)
    assert Bank.objects.get(code="PY-HEAD").name == "温州银行股份有限公司"


def test_a_partner_without_a_region_may_not_change_banks(tmp_path, tree):
    from accounts.choices import Role
    from tests.factories import make_user

    partner = make_user("bank-partner", Role.PARTNER, bank=tree.bank, api_scopes="view,import")
    batch = _import(tmp_path, [["PY-BR", "改名", "PY-HEAD", PINGYANG]], partner)
    assert _reasons(batch) == [(2, "您不能修改银行机构名录。")]
    assert Bank.objects.get(code="PY-BR").name == "温州银行平阳支行"


def test_a_two_bank_cycle_is_a_row_error(tmp_path, tree):
    # PY-HEAD is PY-BR's parent; making PY-BR the parent of PY-HEAD closes a loop.
    batch = _import(tmp_path, [["PY-HEAD", "温州银行", "PY-BR", ""]], None)
    assert _reasons(batch) == [(2, "该上级机构会使机构隶属关系形成循环。")]
    assert Bank.objects.get(code="PY-HEAD").parent_id is None


def test_a_cycle_inside_the_file_is_refused_row_by_row(tmp_path, tree):
    rows = [
        ["A1", "甲", "A3", ""],
        ["A2", "乙", "A1", ""],
        ["A3", "丙", "A2", ""],
    ] + [[f"OK{i}", f"好{i}", "PY-HEAD", ""] for i in range(60)]
    batch = _import(tmp_path, rows, tree.admin)
    assert batch.status == "applied"
    assert [row for row, _reason in _reasons(batch)] == [2, 3, 4]
    assert not Bank.objects.filter(code__in=["A1", "A2", "A3"]).exists()
    assert Bank.objects.filter(code__startswith="OK").count() == 60


def test_a_formula_in_a_bank_name_is_refused(tmp_path, tree):
    for name in ('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"):
        batch = _import(tmp_path, [["PY-BR", name, "PY-HEAD", PINGYANG]], None)
        assert _reasons(batch) == [
            (2, "文本不能以 =、+、- 或 @ 开头（电子表格会把它当作公式）。")
        ], name
    assert Bank.objects.get(code="PY-BR").name == "温州银行平阳支行"


def test_the_api_door_applies_the_same_bank_rules(
    client, tree, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(tree.outsider_staff)  # 鹿城区 staff renaming a 平阳县 branch
    path = write_csv(tmp_path / "b.csv", HEADER, [["PY-BR", "改名", "PY-HEAD", LUCHENG]])
    upload = SimpleUploadedFile("b.csv", path.read_bytes(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", {"kind": "banks", "file": upload})
    assert response.status_code == 202, response.content
    detail = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert detail["status"] == "rejected"
    assert [e["reason"] for e in detail["errors"]] == [
        "该银行机构还服务于您辖区以外的地区，您不能修改它。"
    ]
    assert Bank.objects.get(code="PY-BR").name == "温州银行平阳支行"
