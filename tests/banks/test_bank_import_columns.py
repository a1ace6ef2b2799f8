"""The banks import's two optional columns of the coordination work: 服务重点 and 联系人."""

import pytest

from banks.models import Bank
from enterprises.importing import import_file
from tests.enterprises.helpers import write_csv
from tests.factories import PINGYANG

pytestmark = pytest.mark.django_db

HEADER = ["银行机构代码", "机构名称", "上级机构代码", "服务区域", "服务重点", "联系人"]


def _import(tmp_path, rows, user, header=HEADER):
    return import_file("banks", write_csv(tmp_path / "b.csv", header, rows), user=user)


def test_focus_areas_and_contact_are_imported(tmp_path, cast):
    cast.bank.service_regions.set([PINGYANG])
    row = [
        "PY-BR",
        "温州银行平阳支行",
        "PY-HEAD",
        PINGYANG,
        "外贸；科创、外贸",
        "陈晓东 13857700102",
    ]
    batch = _import(tmp_path, [row], cast.staff)
    assert batch.status == "applied", list(batch.errors.values_list("reason", flat=True))
    branch = Bank.objects.get(code="PY-BR")
    assert branch.focus_areas == ["foreign_trade", "technology"]
    assert branch.contact == "陈晓东 13857700102"


def test_a_file_without_the_columns_keeps_them(tmp_path, cast):
    Bank.objects.filter(code="PY-BR").update(focus_areas=["agriculture"], contact="王建平")
    cast.bank.service_regions.set([PINGYANG])
    batch = _import(
        tmp_path, [["PY-BR", "温州银行平阳支行", "PY-HEAD", PINGYANG]], cast.staff, HEADER[:4]
    )
    assert batch.status == "applied"
    branch = Bank.objects.get(code="PY-BR")
    assert (branch.focus_areas, branch.contact) == (["agriculture"], "王建平")


def test_an_unknown_focus_area_is_a_row_error(tmp_path, cast):
    cast.bank.service_regions.set([PINGYANG])
    batch = _import(
        tmp_path, [["PY-BR", "温州银行平阳支行", "PY-HEAD", PINGYANG, "房地产", ""]], cast.staff
    )
    assert batch.status == "rejected"
    assert [(e.column, e.value) for e in batch.errors.all()] == [("服务重点", "房地产")]
    assert Bank.objects.get(code="PY-BR").focus_areas == []
