"""A small hand-made dashboard fixture (figures are worked out by hand in the tests)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import F

from enterprises.models import Enterprise
from tests.factories import (
    LUCHENG_STREET,
    make_credit,
    make_enterprise,
    make_loan,
    make_negative,
)

KUNYANG = "330326100"  # 平阳县 昆阳镇
AOJIANG = "330326101"  # 平阳县 鳌江镇


@dataclass
class World:
    ents: dict


def build_world(cast):
    """Enterprises A–K with loans, renewals and credit snapshots; period 2025-01-01..06-30.

    Loans are at cast.bank (PY-BR, under PY-HEAD) except B's, at cast.other_bank (RA-BR).
    """
    py, ra = cast.bank, cast.other_bank
    e = {}
    e["A"] = make_enterprise(KUNYANG, size="small", industry_code="C1311")
    make_loan(e["A"], py, "100", date(2025, 2, 10), date(2026, 2, 10), guarantee="credit")
    make_loan(e["A"], py, "50", date(2025, 4, 1))
    # on a negative list: the loan KPIs count it all the same ("whatever list they are on")
    make_negative(e["A"], "abnormal_operation", date(2025, 3, 2))

    e["B"] = make_enterprise(AOJIANG, size="micro", industry_code="F5123")
    make_loan(e["B"], ra, "80", date(2024, 5, 1), date(2025, 5, 1))
    make_loan(e["B"], ra, "60", date(2025, 3, 1), guarantee="credit")
    make_loan(e["B"], ra, "70", date(2025, 1, 15), date(2026, 1, 15), balance="65", is_renewal=True)

    e["C"] = make_enterprise(KUNYANG, size="medium", industry_code="C3411")
    make_loan(e["C"], py, "200", date(2025, 5, 5))
    make_credit(e["C"], py, date(2025, 3, 31), "0", first_loan_date=date(2023, 1, 1))
    make_loan(e["C"], py, "40", date(2024, 3, 1), date(2025, 6, 30), is_renewal=True)
    make_loan(e["C"], py, "90", date(2024, 12, 1), date(2025, 12, 1), is_renewal=True)

    e["D"] = make_enterprise(KUNYANG, entity_type="individual", size="", industry_code="")
    make_loan(e["D"], py, "30", date(2025, 6, 30))
    # dated after the period's end: ignored, so D's loan on 06-30 is still its first
    make_credit(e["D"], py, date(2025, 7, 15), "30", first_loan_date=date(2020, 1, 1))

    e["E"] = make_enterprise(LUCHENG_STREET, size="small", industry_code="C1311")
    make_loan(e["E"], py, "500", date(2025, 3, 3), guarantee="credit")

    e["G"] = make_enterprise(KUNYANG, size="micro")
    make_credit(e["G"], ra, date(2025, 5, 31), "20")

    e["H"] = make_enterprise(KUNYANG, size="small")
    e["I"] = make_enterprise(KUNYANG, size="medium")

    e["J"] = make_enterprise(KUNYANG, size="small")
    make_credit(e["J"], ra, date(2025, 3, 31), "10")
    make_credit(e["J"], ra, date(2025, 6, 15), "0")
    make_credit(e["J"], ra, date(2025, 8, 1), "50")  # after end: ignored

    e["K"] = make_enterprise(KUNYANG, size="small")
    make_loan(e["K"], py, "10", date(2024, 12, 31), date(2025, 6, 30))
    return World(ents=e)


def lists_of(active, no_loan):
    """A stand-in for screening's current lists: ``current_list_sql(region, list_type)``."""
    members = {"active": active, "no_loan": no_loan}
    return lambda region, list_type: list_sql_of(members[list_type])


def list_sql_of(enterprises):
    """(sql, params) of the ids of ``enterprises``, shaped like a current list's members."""
    from dashboards.services import _sql

    ids = [e.pk for e in enterprises]
    return _sql(
        Enterprise.objects.filter(pk__in=ids)
        .order_by()
        .annotate(enterprise_id=F("id"))
        .values("enterprise_id")
    )
