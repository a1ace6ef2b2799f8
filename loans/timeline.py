"""The lending part of the enterprise timeline: credit approvals, loans and renewals, and the
imports of credit and loan files.

Only the rows the user may read (``restrict``): a bank officer sees their branches' lending;
another bank's shows only as the page's single "在其他银行有贷款" line, never as an event.
"""

from functools import partial

from django.db.models import Q
from django.utils.translation import gettext as _

from enterprises.models import ImportBatch
from enterprises.timeline import Event, amount, join, link, register_source

from .models import CreditApproval, CreditSnapshot, Loan


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
            row.get_product_display() if row.product else "",
            _("{months} months").format(months=row.term_months) if row.term_months else "",
            row.get_guarantee_display() if row.guarantee else "",
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
            loan.get_product_display(),
            loan.get_guarantee_display(),
            _("matures {day}").format(day=loan.matures_on.isoformat()),
            _("continues {number}").format(number=loan.renews_loan_no)
            if loan.renews_loan_no
            else "",
        ),
    }


def import_events(enterprise, user, limit):
    """The credit and loan-ledger files that wrote rows of this enterprise the user may read
    (one query)."""
    q = Q(pk__in=[])
    for model in (CreditSnapshot, Loan, CreditApproval):
        rows = model.objects.restrict(user).filter(enterprise=enterprise, batch__isnull=False)
        q |= Q(pk__in=rows.values("batch_id"))
    batches = ImportBatch.objects.filter(q).order_by("-applied_at", "-created_at", "-pk")[:limit]
    can_import = user.scope.allows("import")
    return [
        Event(
            batch.applied_at or batch.created_at,
            _("Data import"),
            batch.get_kind_display(),
            join(batch.source_department, batch.file_name, f"#{batch.pk}"),
            url=link("enterprises:import_detail", batch.pk) if can_import else "",
            icon="bi-cloud-arrow-up",
        )
        for batch in batches
    ]


def register_sources():
    register_source("approvals", approval_events)
    register_source("loans", loan_events)
    register_source("lending_imports", import_events)
