"""Issue 11 item 1 (imports): a bank-scoped partner imports only its own bank's rows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from accounts.choices import Role
from enterprises.importing import import_file
from loans.models import CreditSnapshot, Loan
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_csv
from tests.factories import PINGYANG, make_enterprise, make_user

pytestmark = pytest.mark.django_db

LOAN_HEADER = [
    "统一社会信用代码", "银行机构代码", "借据号", "放款日期", "到期日期",
    "放款金额（万元）", "产品类型", "担保方式",
]  # fmt: skip


@pytest.fixture
def partner(cast):
    """The partner system of 温州银行平阳支行 (PY-BR), limited to 平阳县, with the import right."""
    return make_user(
        "py-bank-api", Role.PARTNER, region=PINGYANG, bank=cast.bank, api_scopes="view,import"
    )


def _loan(enterprise, bank_code, loan_no):
    return [
        enterprise.uscc,
        bank_code,
        loan_no,
        "2025-01-01",
        "2026-01-01",
        "100",
        "流动资金贷款",
        "信用",
    ]


def test_a_bank_scoped_partner_cannot_import_another_banks_loan(
    client, cast, partner, tmp_path, django_capture_on_commit_callbacks
):
    enterprise = make_enterprise()
    path = write_csv(
        tmp_path / "l.csv",
        LOAN_HEADER,
        [_loan(enterprise, "RA-BR", "OTHER-1")]
        + [_loan(enterprise, "PY-BR", f"OWN-{i}") for i in range(30)],
    )
    token = Token.objects.create(user=partner)
    upload = SimpleUploadedFile("l.csv", path.read_bytes(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/",
            {"kind": "loans", "file": upload},
            HTTP_AUTHORIZATION=f"Token {token.key}",
        )
    assert response.status_code == 202, response.content
    detail = client.get(
        f"/api/v1/imports/{response.json()['id']}/", HTTP_AUTHORIZATION=f"Token {token.key}"
    ).json()
    assert detail["status"] == "applied"
    assert [(e["row_number"], e["reason"]) for e in detail["errors"]] == [
        (2, "该银行不在您的权限范围内。")
    ]
    assert not Loan.objects.filter(bank_id="RA-BR").exists()
    assert Loan.objects.filter(bank_id="PY-BR").count() == 30


def test_a_bank_scoped_partner_cannot_import_another_banks_credit(cast, partner, tmp_path):
    enterprise = make_enterprise()
    path = write_csv(
        tmp_path / "c.csv",
        ["统一社会信用代码", "银行机构代码", "数据日期", "贷款余额（万元）"],
        [[enterprise.uscc, "RA-BR", "2025-06-30", "5"]],
    )
    batch = import_file("credit", path, user=partner)
    assert [(e.row_number, e.reason) for e in batch.errors.all()] == [
        (2, "该银行不在您的权限范围内。")
    ]
    assert not CreditSnapshot.objects.exists()


def test_a_bank_scoped_partner_imports_no_register_data(cast, partner, tmp_path):
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(2))
    batch = import_file("registry", path, user=partner)
    assert batch.status == "rejected"
    assert {e.reason for e in batch.errors.all()} == {
        "超出您的权限范围：您只能导入本行的授信和贷款数据。"
    }
    from enterprises.models import Enterprise

    assert not Enterprise.objects.exists()
