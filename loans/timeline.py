"""The lending part of the enterprise timeline: credit approvals, loans and renewals (and the
credit and loan files among the enterprise's imports).

Only the rows the user may read (``restrict``): a bank officer sees their branches' lending;
another bank's shows only as the page's single "在其他银行有贷款" line, never as an event.
"""

from functools import partial

from django.utils.translation import gettext as _

from enterprises.timeline import Event, amount, join, label, register_batch_rows, register_source

from .choices import Guarantee, LoanProduct, Stage
from .models import CreditApproval, CreditSnapshot, Loan, StageChange


def approval_events(enterprise, user, limit):
    """Credit approvals (授信) the user may read (one query)."""
    rows = (
        CreditApproval.objects.restrict(user)
        .filter(enterprise=enterprise)
        .select_related("bank")
        .order_by("-approved_on", "-pk")[:limit]
    )
    kind = _("Credit line")
    return [
        Event(row.approved_on, kind, icon="bi-clipboard-check", render=partial(_approval, row))
        for row in rows
    ]


def _approval(row):
    return {
        "title": _("Credit approved: {amount}").format(amount=amount(row.amount)),
        "detail": join(
            row.bank.name,
            label(LoanProduct, row.product) if row.product else "",
            _("{months} months").format(months=row.term_months) if row.term_months else "",
            label(Guarantee, row.guarantee) if row.guarantee else "",
        ),
    }


def loan_events(enterprise, user, limit):
    """Loans disbursed, renewals without repayment marked as such (one query)."""
    rows = (
        Loan.objects.restrict(user)
        .filter(enterprise=enterprise)
        .select_related("bank")
        .order_by("-disbursed_on", "-pk")[:limit]
    )
    renewal, loan = _("Renewal"), _("Disbursement")
    return [
        Event(
            row.disbursed_on,
            renewal if row.is_renewal else loan,
            icon="bi-arrow-repeat" if row.is_renewal else "bi-cash-coin",
            render=partial(_loan, row),
        )
        for row in rows
    ]


def _loan(loan):
    if loan.is_renewal:
        title = _("Renewed without repaying the principal: {amount}")
    else:
        title = _("Loan disbursed: {amount}")
    return {
        "title": title.format(amount=amount(loan.amount)),
        "detail": join(
            loan.bank.name,
            label(LoanProduct, loan.product),
            label(Guarantee, loan.guarantee),
            _("matures {day}").format(day=loan.matures_on.isoformat()),
            _("continues {number}").format(number=loan.renews_loan_no)
            if loan.renews_loan_no
            else "",
        ),
    }


def stage_events(enterprise, user, limit):
    """The enterprise's stage history: 无贷户 → 首贷户 → 伙伴客户 (one query). The loan that moved
    it is not named: it may be another bank's."""
    rows = (
        StageChange.objects.restrict(user)
        .filter(enterprise=enterprise)
        .order_by("-changed_on", "-pk")[:limit]
    )
    kind = _("Stage")
    return [
        Event(
            row.changed_on,
            kind,
            icon="bi-signpost-split",
            render=lambda row=row: {
                "title": _("{old} → {new}").format(
                    old=label(Stage, row.from_stage), new=label(Stage, row.to_stage)
                )
            },
        )
        for row in rows
    ]


def register_sources():
    register_source("approvals", approval_events)
    register_source("loans", loan_events)
    register_source("stages", stage_events)
    # Their import batches show among the enterprise's imports (one query for all).
    register_batch_rows(CreditSnapshot)
    register_batch_rows(Loan)
    register_batch_rows(CreditApproval)
