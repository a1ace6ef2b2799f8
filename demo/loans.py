"""Demo step of the loans app: the banker records credit and loans, so the stage path, the
renewal chain and the maturity watch show data on a fresh demo.

- an approval and a first loan (the enterprise becomes 首贷户);
- a renewal chain (a loan renewed twice without principal repayment);
- a loan maturing in 20 days without a renewal contact (on 到期前一个月未联系), and one with.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from .services import COUNTY


def load():
    """Returns a one-line summary."""
    from django.db.models import Q

    from accounts.models import User
    from banks.models import BankAssignment
    from core.history import acting_as
    from enterprises.models import Enterprise
    from loans.models import CreditSnapshot, Loan
    from loans.services import (
        recompute_stages,
        record_approval,
        record_contact,
        record_loan,
        refresh_watch,
    )

    today = timezone.localdate()
    # The demo imports ran with the import signal muted: derive first loans and stages once.
    recompute_stages()
    banker = User.objects.get(username="banker")
    # The banker's enterprises without any loan or credit record first (the first loan must be
    # one), then the others.
    assigned = BankAssignment.objects.restrict(banker).values("enterprise_id")
    mine = Enterprise.objects.restrict(banker, "report").order_by("pk")
    borrowed = CreditSnapshot.objects.filter(
        Q(loan_balance__gt=0) | Q(first_loan_date__isnull=False)
    ).values("enterprise_id")
    clean = list(
        mine.filter(pk__in=assigned).exclude(loans__isnull=False).exclude(pk__in=borrowed)[:4]
    )
    if not clean:
        # The demo's visit batch holds borrowers only: place one no-loan enterprise of the
        # county with the banker's branch (as a later batch would), for its first loan.
        newcomer = (
            Enterprise.objects.filter(region__code__startswith=COUNTY)
            .exclude(loans__isnull=False)
            .exclude(pk__in=borrowed)
            .order_by("pk")
            .first()
        )
        if newcomer is not None:
            BankAssignment.objects.create(enterprise=newcomer, bank=banker.bank, role="lead")
            clean = [newcomer]
    firms = clean + list(mine.exclude(pk__in=[f.pk for f in clean])[: 4 - len(clean)])
    if len(firms) < 4:
        return "loans: not enough of the banker's enterprises without loans"
    first, chained, due, contacted = firms

    def loan(enterprise, no, disbursed_on, months, amount, **extra):
        return record_loan(
            banker,
            {
                "enterprise": enterprise,
                "bank": banker.bank,
                "loan_no": no,
                "disbursed_on": disbursed_on,
                "matures_on": disbursed_on + timedelta(days=round(months * 30.5)),
                "amount": Decimal(amount),
                "balance": Decimal(amount),
                "product": "working_capital",
                "guarantee": "credit",
                "rate": Decimal("3.85"),
                **extra,
            },
        )

    with acting_as(banker, via="web"):
        record_approval(
            banker,
            {
                "enterprise": first,
                "bank": banker.bank,
                "approval_no": "DEMO-SX-001",
                "approved_on": today - timedelta(days=12),
                "amount": Decimal("200"),
                "product": "working_capital",
                "term_months": 12,
                "guarantee": "credit",
            },
        )
        loan(first, "DEMO-JJ-001", today - timedelta(days=7), 12, "150")
        original = loan(chained, "DEMO-JJ-101", today - timedelta(days=760), 12, "300")
        renewal = loan(
            chained,
            "DEMO-JJ-102",
            original.matures_on,
            12,
            "300",
            renews=original,
        )
        loan(chained, "DEMO-JJ-103", renewal.matures_on, 12, "280", renews=renewal)
        loan(due, "DEMO-JJ-201", today + timedelta(days=20) - timedelta(days=365), 12, "80")
        talked = loan(
            contacted, "DEMO-JJ-301", today + timedelta(days=15) - timedelta(days=365), 12, "60"
        )
        refresh_watch()
        record_contact(
            banker,
            talked,
            {
                "contacted_on": today - timedelta(days=2),
                "outcome": "renew",
                "note": "企业已提交续贷申请",
            },
        )
    return f"loans: {Loan.objects.filter(created_by=banker).count()} loans recorded by the banker"
