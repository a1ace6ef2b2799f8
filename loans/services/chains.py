"""Renewal chains (无还本续贷), balances counted once, and time to loan of one enterprise."""

from django.apps import apps
from django.db.models import Min
from django.utils import timezone

from ..models import Loan


def renewal_chains(loans):
    """Group ``loans`` (one enterprise's, any order) into chains: each a list from the original
    loan to its latest renewal (a loan renewed twice at once opens a branch: its renewals follow
    in disbursement order). Loans outside ``loans`` break the chain there."""
    by_id = {loan.pk: loan for loan in loans}
    children = {}
    for loan in sorted(by_id.values(), key=lambda x: (x.disbursed_on, x.pk)):
        if loan.renews_id in by_id and loan.renews_id != loan.pk:
            children.setdefault(loan.renews_id, []).append(loan)
    roots = [
        loan
        for loan in sorted(by_id.values(), key=lambda x: (x.disbursed_on, x.pk))
        if loan.renews_id not in by_id or loan.renews_id == loan.pk
    ]
    chains, seen = [], set()
    for root in roots:
        chain, stack = [], [root]
        while stack:
            loan = stack.pop(0)
            if loan.pk in seen:
                continue  # guards against a cycle in bad imported data
            seen.add(loan.pk)
            chain.append(loan)
            stack = children.get(loan.pk, []) + stack
        chains.append(chain)
    return chains


def counts_on(loan, day, renewed_on):
    """Whether ``loan`` counts in the outstanding balance on ``day``: disbursed, not matured,
    and not yet replaced by a renewal (``renewed_on``: its earliest renewal's disbursement)."""
    if not loan.disbursed_on <= day < loan.matures_on:
        return False
    return renewed_on is None or day < renewed_on


def outstanding_balance(loans, day=None):
    """The balance owed on ``day`` over ``loans`` (balance, else amount), each debt once: an
    original loan stops counting from the disbursement of its renewal, which carries the debt
    on. (The dashboards' renewal balance sums outstanding renewals only, the same rule.)"""
    day = day or timezone.localdate()
    loans = list(loans)
    renewed = {}
    for loan in Loan.objects.filter(renews_id__in=[x.pk for x in loans]).values(
        "renews_id", "disbursed_on"
    ):
        first = renewed.get(loan["renews_id"])
        if first is None or loan["disbursed_on"] < first:
            renewed[loan["renews_id"]] = loan["disbursed_on"]
    total = 0
    for loan in loans:
        if counts_on(loan, day, renewed.get(loan.pk)):
            total += loan.balance if loan.balance is not None else loan.amount
    return total


def _days(start, end):
    return (end - start).days if start and end else None


def time_to_loan(enterprise, user):
    """Days from the enterprise's earliest recommendation, and from its first visit, to its first
    loan (renewals included) disbursed on or after that day, among the rows ``user`` may read (a
    bank officer: its own branches' recommendations, visits and loans, so no other bank's loan
    date shows through). Returns a dict: ``recommended_on``, ``loan_after_recommendation``
    (date), ``days_from_recommendation``, ``first_visit_on``, ``loan_after_visit``,
    ``days_from_visit`` (None where missing)."""
    Recommendation = apps.get_model("visits", "Recommendation")
    Visit = apps.get_model("visits", "Visit")
    recommended_on = (
        Recommendation.objects.restrict(user)
        .filter(enterprise=enterprise, recommended_on__isnull=False)
        .aggregate(d=Min("recommended_on"))["d"]
    )
    first_visit_on = (
        Visit.objects.restrict(user)
        .filter(enterprise=enterprise)
        .exclude(status="withdrawn")
        .aggregate(d=Min("visited_on"))["d"]
    )

    def first_loan_from(start):
        if start is None:
            return None
        return (
            Loan.objects.restrict(user)
            .filter(enterprise=enterprise, disbursed_on__gte=start)
            .aggregate(d=Min("disbursed_on"))["d"]
        )

    after_rec, after_visit = first_loan_from(recommended_on), first_loan_from(first_visit_on)
    return {
        "recommended_on": recommended_on,
        "loan_after_recommendation": after_rec,
        "days_from_recommendation": _days(recommended_on, after_rec),
        "first_visit_on": first_visit_on,
        "loan_after_visit": after_visit,
        "days_from_visit": _days(first_visit_on, after_visit),
    }
