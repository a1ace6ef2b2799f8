"""The coordination funnel: active → visited → need found → recommended → credit granted →
disbursed, and the no-loan → first-loan conversion. Its figures are computed alone (only the
KPI families it shows, ``services.compute_funnel_live``) and stored like the KPIs, under the same
freshness rules."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from .services import RATE_QUANTUM
from .snapshots import compute_funnel_totals

# (figure key, stage label); each stage counts distinct enterprises of the region in the
# period on its own definition (docs/kpis.md "Funnel"), so a stage may exceed the one before.
STAGES = (
    ("active_entities", _("Active entities")),
    ("visited_enterprises", _("Visited")),
    ("need_found_enterprises", _("Financing need found")),
    ("recommended_enterprises", _("Recommended to a bank")),
    ("credited_enterprises", _("Credit granted")),
    ("disbursed_enterprises", _("Loan disbursed")),
)


def _rate(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_QUANTUM, ROUND_HALF_UP)


def compute_funnel(user, region, start, end):
    result = compute_funnel_totals(user, region, start, end)
    totals = result["totals"]
    stages, previous = [], None
    for index, (key, label) in enumerate(STAGES):
        count = totals.get(key)
        stages.append(
            {
                "key": key,
                "label": str(label),
                "count": count,
                "rate_from_previous": None if index == 0 else _rate(count, previous),
            }
        )
        previous = count
    no_loan, firsts = totals.get("no_loan_entities"), totals.get("first_loan_enterprises", 0)
    return {
        "region": region,
        "start": result["start"],
        "end": result["end"],
        "as_of": result["as_of"],
        "data_as_of": result.get("data_as_of"),
        "stages": stages,
        "no_loan_entities": no_loan,
        "first_loan_enterprises": firsts,
        "first_loan_conversion": None if no_loan is None else _rate(firsts, no_loan + firsts),
    }
