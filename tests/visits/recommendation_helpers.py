"""Helpers for the recommendation tests: visits that announce themselves, a second member."""

from datetime import date
from decimal import Decimal

from django.db import transaction

from accounts.choices import Role
from tests.factories import PINGYANG, make_assignment, make_enterprise, make_user
from visits.models import Visit
from visits.signals import visit_recorded


def record(enterprise, user=None, visited_on=date(2025, 6, 1), **fields):
    """A completed visit, announced as ``record_visit`` does (inside its transaction)."""
    defaults = {
        "has_need": True,
        "need_amount": Decimal("200"),
        "need_purpose": "working_capital",
        "need_term_months": 12,
        "intent": "strong",
        "operating_normally": True,
        "note": "厂房自有，订单增加",
    }
    defaults.update(fields)
    with transaction.atomic():
        visit = Visit.objects.create(enterprise=enterprise, visited_on=visited_on, **defaults)
        visit_recorded.send(sender=Visit, visit=visit, user=user, created=True)
    return visit


def second_member(username="staff2"):
    """Another task-force member of 平阳县 (the approver)."""
    return make_user(username, Role.TASK_FORCE, region=PINGYANG)


def firm_with_lead(cast, **fields):
    """An enterprise of 平阳 昆阳镇 with cast.bank as lead bank and a visit with a need."""
    fields.setdefault("address", "平阳县昆阳镇工业路8号")
    firm = make_enterprise(**fields)
    make_assignment(firm, cast.bank, role="lead")
    return firm
