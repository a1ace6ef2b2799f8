"""Shared data for the visit tests: a visit's fields for the service and for the form."""

from datetime import date, timedelta

from django.utils import timezone


def visit_data(enterprise, **overrides):
    """The fields of a visit with a financing need, as record_visit takes them."""
    data = {
        "enterprise": enterprise,
        "round": "first",
        "visited_on": timezone.localdate() - timedelta(days=1),
        "method": "on_site",
        "operating_normally": True,
        "has_need": True,
        "need_amount": "200",
        "need_purpose": "working_capital",
        "need_term_months": 12,
        "acceptable_guarantees": ["credit", "mortgage"],
        "intent": "strong",
        "problems": ["collateral"],
        "note": "厂房扩建，需要流动资金",
        "next_visit_on": None,
        "township_worker_name": "",
        "bank_officer_name": "",
    }
    data.update(overrides)
    return data


def form_data(enterprise, **overrides):
    """The same visit as the form posts it (strings, lists for the checkboxes)."""
    data = {
        "enterprise": enterprise.uscc if enterprise else "",
        "enterprise_q": enterprise.name if enterprise else "",
        "round": "first",
        "visited_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "method": "on_site",
        "operating_normally": "true",
        "has_need": "true",
        "need_amount": "200",
        "need_purpose": "working_capital",
        "need_term_months": "12",
        "acceptable_guarantees": ["credit", "mortgage"],
        "intent": "strong",
        "problems": ["collateral", "rate"],
        "note": "厂房扩建，需要流动资金",
        "next_visit_on": "",
        "township_worker_name": "",
        "bank_officer_name": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


TOMORROW = date.today() + timedelta(days=2)
