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


# ---------------------------------------------------------------------------------------------
# visits, recommendations, credit approvals, bank feedback (the figures of issues 14 and 15)


def make_visit(enterprise, visited_on, *, has_need=False, bank=None, status="completed"):
    from visits.models import Visit

    return Visit.objects.create(
        enterprise=enterprise, visited_on=visited_on, has_need=has_need, bank=bank, status=status
    )


def make_recommendation(enterprise, bank, recommended_on):
    from visits.models import Recommendation

    return Recommendation.objects.create(
        enterprise=enterprise, bank=bank, recommended_on=recommended_on
    )


def make_approval(enterprise, bank, approved_on, amount):
    from decimal import Decimal

    from loans.models import CreditApproval

    return CreditApproval.objects.create(
        enterprise=enterprise,
        bank=bank,
        approval_no=f"AP-{enterprise.pk}-{approved_on:%Y%m%d}-{bank.pk}",
        approved_on=approved_on,
        amount=Decimal(amount),
    )


def given_at(feedback_or_hand_off, day):
    """Date a feedback (auto_now_add) or hand-off as given at noon of ``day``, Shanghai time."""
    from datetime import datetime, time

    from django.utils import timezone

    when = timezone.make_aware(datetime.combine(day, time(12)))
    type(feedback_or_hand_off).objects.filter(pk=feedback_or_hand_off.pk).update(created_at=when)


def add_coordination(cast, world):
    """Visits, recommendations and approvals on top of ``build_world`` (period 2025 H1).

    Worked out by hand in tests/dashboards/test_coordination_kpis.py:
    - A: two completed visits (need found on the first, bank PY); recommended to PY on 01-25
      and again on 03-01 (R = 01-25), and to RA on 02-05; first loan 02-10 (PY) → 16 days;
      approvals PY 02-01 (120) and 05-01 (30).
    - B: a withdrawn visit; recommended to RA 02-01; loan 03-01 (RA) → 28 days; approval RA 80.
    - C: a visit (no need, team bank RA); recommended PY 05-10, its loan of 05-05 is before R
      (ignored); approval PY 05-20 (150).
    - D: recommended PY 06-01, loan 06-30 (= end) → 29 days; an approval after end (ignored).
    - H: recommended PY 04-01, loan 07-10 after end (ignored). I: recommended RA 03-15, no loan.
    - K: recommended 2024-12-20, before the period. G: approved, not pushed (no date).
    - E (鹿城区, outside 平阳): a visit, recommended PY 02-01, loan 03-03 → 30 days; approval 500.
    """
    from visits.models import Recommendation

    e, py, ra = world.ents, cast.bank, cast.other_bank
    make_visit(e["A"], date(2025, 1, 20), has_need=True, bank=py)
    make_visit(e["A"], date(2025, 3, 5), bank=py)
    make_visit(e["B"], date(2025, 2, 1), has_need=True, status="withdrawn")
    make_visit(e["C"], date(2025, 5, 1), bank=ra)
    make_visit(e["E"], date(2025, 2, 2), has_need=True)
    make_visit(e["H"], date(2025, 7, 2), has_need=True)  # after end

    make_recommendation(e["A"], py, date(2025, 1, 25))
    make_recommendation(e["A"], py, date(2025, 3, 1))
    make_recommendation(e["A"], ra, date(2025, 2, 5))
    make_recommendation(e["B"], ra, date(2025, 2, 1))
    make_recommendation(e["C"], py, date(2025, 5, 10))
    make_recommendation(e["D"], py, date(2025, 6, 1))
    make_recommendation(e["H"], py, date(2025, 4, 1))
    make_loan(e["H"], py, "25", date(2025, 7, 10))
    make_recommendation(e["I"], ra, date(2025, 3, 15))
    make_recommendation(e["K"], py, date(2024, 12, 20))
    Recommendation.objects.create(enterprise=e["G"], bank=py, recommended_on=None)
    make_recommendation(e["E"], py, date(2025, 2, 1))

    make_approval(e["A"], py, date(2025, 2, 1), "120")
    make_approval(e["A"], py, date(2025, 5, 1), "30")
    make_approval(e["B"], ra, date(2025, 2, 20), "80")
    make_approval(e["C"], py, date(2025, 5, 20), "150")
    make_approval(e["D"], py, date(2025, 7, 5), "40")  # after end
    make_approval(e["E"], py, date(2025, 3, 1), "500")
    return world


def external_assets(html):
    """The script, style and image addresses of a page that point off the server (a CDN).

    Looking for the word "cdn" in the page is not enough: a random CSRF token can hold it."""
    import re

    return re.findall(r'(?:src|href)="((?:https?:)?//[^"]*)"', html)
