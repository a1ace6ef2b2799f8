"""Plain factory functions for tests: valid USCCs, enterprises, banks, loans, users per role.

Regions used throughout (from data/regions-wenzhou.csv):
  330326 平阳县 with townships 330326100 (昆阳镇), 330326101 (鳌江镇) …, 330302 鹿城区 with 330302006 (五马街道).
"""

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from stdnum.cn import uscc as stdnum_uscc

from accounts.choices import Role
from accounts.models import User
from banks.models import Bank, BankAssignment
from enterprises.models import (
    CensusRecord,
    Enterprise,
    NegativeListEntry,
    Region,
    TaxRecord,
)
from enterprises.services.regions import load_regions
from loans.models import CreditSnapshot, Loan

PINGYANG = "330326"
PINGYANG_TOWN = "330326100"  # 昆阳镇
LUCHENG = "330302"
LUCHENG_STREET = "330302006"
WENZHOU = "330300"

_sequence = itertools.count(1)


def load_test_regions():
    if not Region.objects.exists():
        load_regions(Path(settings.BASE_DIR) / "data" / "regions-wenzhou.csv")


def make_uscc(prefix="91", region=PINGYANG, serial=None):
    """A valid 18-character USCC: prefix (91 enterprise, 92 individual, 93 cooperative)."""
    serial = serial if serial is not None else next(_sequence)
    body = f"{prefix}{region[:6]}{serial:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


def make_enterprise(region=PINGYANG_TOWN, **fields):
    defaults = {
        "uscc": make_uscc(region=region),
        "name": f"测试企业{next(_sequence)}有限公司",
        "entity_type": "enterprise",
        "established_on": date(2015, 3, 1),
        "status": "operating",
        "size": "small",
        "legal_rep": "张三丰",
        "phone": "13812345678",
    }
    defaults.update(fields)
    return Enterprise.objects.create(region_id=region, **defaults)


def make_bank(code=None, name=None, parent=None, **fields):
    code = code or f"B{next(_sequence):05d}"
    return Bank.objects.create(code=code, name=name or f"测试银行{code}", parent=parent, **fields)


def make_loan(
    enterprise,
    bank,
    amount="100",
    disbursed_on=date(2025, 3, 1),
    matures_on=date(2026, 3, 1),
    **fields,
):
    defaults = {
        "loan_no": f"L{next(_sequence):08d}",
        "product": "working_capital",
        "guarantee": "surety",
    }
    defaults.update(fields)
    return Loan.objects.create(
        enterprise=enterprise,
        bank=bank,
        amount=Decimal(amount),
        disbursed_on=disbursed_on,
        matures_on=matures_on,
        **defaults,
    )


def make_credit(enterprise, bank, as_of=date(2025, 6, 30), loan_balance="0", **fields):
    return CreditSnapshot.objects.create(
        enterprise=enterprise, bank=bank, as_of=as_of, loan_balance=Decimal(loan_balance), **fields
    )


def make_tax(enterprise, tax_year=2024, credit_rating="B", **fields):
    return TaxRecord.objects.create(
        enterprise=enterprise, tax_year=tax_year, credit_rating=credit_rating, **fields
    )


def make_census(enterprise, census_year=2023, is_active=True, **fields):
    return CensusRecord.objects.create(
        enterprise=enterprise, census_year=census_year, is_active=is_active, **fields
    )


def make_negative(enterprise, list_type="abnormal_operation", listed_on=date(2025, 3, 2), **fields):
    return NegativeListEntry.objects.create(
        enterprise=enterprise, list_type=list_type, listed_on=listed_on, **fields
    )


def make_assignment(enterprise, bank, role="lead"):
    return BankAssignment.objects.create(enterprise=enterprise, bank=bank, role=role)


def make_user(username, role, region=None, bank=None, **fields):
    user = User.objects.create_user(
        username=username,
        password="pw-" + username,
        role=role,
        region_id=region,
        bank=bank,
        **fields,
    )
    return user


@dataclass
class Cast:
    """The fixed cast: who sees what.

    - staff: task force of 平阳县; city_staff: task force of 温州市
    - township: worker of 平阳 昆阳镇 330326100; regulator: read-only, 平阳县
    - officer: bank officer of branch ``bank`` (平阳); outsider_staff: task force of 鹿城区
    - partner: partner system limited to 平阳县, scopes view; admin: everything
    """

    staff: User
    city_staff: User
    township: User
    regulator: User
    officer: User
    outsider_staff: User
    partner: User
    admin: User
    bank: Bank
    other_bank: Bank

    @classmethod
    def create(cls):
        head = make_bank(code="PY-HEAD", name="温州银行")
        bank = make_bank(code="PY-BR", name="温州银行平阳支行", parent=head, level="sub_branch")
        other = make_bank(code="RA-BR", name="瑞安农商银行", level="legal_person")
        return cls(
            staff=make_user("staff", Role.TASK_FORCE, region=PINGYANG),
            city_staff=make_user("city_staff", Role.TASK_FORCE, region=WENZHOU),
            township=make_user("township", Role.TOWNSHIP_WORKER, region=PINGYANG_TOWN),
            regulator=make_user("regulator", Role.REGULATOR, region=PINGYANG),
            officer=make_user("officer", Role.BANK_OFFICER, bank=bank),
            outsider_staff=make_user("outsider", Role.TASK_FORCE, region=LUCHENG),
            partner=make_user("partner", Role.PARTNER, region=PINGYANG, api_scopes="view"),
            admin=make_user("admin", Role.ADMIN, is_staff=True, is_superuser=True),
            bank=bank,
            other_bank=other,
        )
