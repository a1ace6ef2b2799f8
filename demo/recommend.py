"""Demo step of the recommendation workflow: visits that found needs, the application list in
every status (checked by ``taskforce``, approved by ``taskforce2``), and one pushed batch to
the demo banker's branch; then the lists are rebuilt so the reserve pool shows them."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from .services import COUNTY

# (need amount 万元, purpose, what happens to the entry)
PLAN = [
    ("300", "working_capital", "pushed"),
    ("150", "equipment", "pushed"),
    ("500", "plant", "approved"),
    ("80", "working_capital", "approved"),
    ("120", "upgrade", "checked"),
    ("60", "other", "rejected"),
    ("200", "working_capital", "pending"),
    ("90", "equipment", "pending"),
]


def load():
    """Build the demo's recommendation data; returns a one-line summary."""
    from banks.models import BankAssignment
    from core import jobs
    from core.history import acting_as
    from enterprises.models import Enterprise
    from visits.choices import FiveStandard
    from visits.models import Application, Visit
    from visits.services.recommendations import (
        approve_application,
        check_application,
        push_recommendations,
    )
    from visits.signals import visit_recorded

    checker = User.objects.get(username="taskforce")
    approver = User.objects.get(username="taskforce2")
    banker = User.objects.get(username="banker")
    township = User.objects.filter(username="township").first()
    # Entries going to a bank need a lead bank: the banker's leads. The pending ones are
    # no-loan enterprises of the current lists, so the reserve pool shows them after the rebuild.
    needs_bank = [outcome for _a, _p, outcome in PLAN if outcome != "pending"]
    leads = [
        a.enterprise
        for a in BankAssignment.objects.filter(bank_id=banker.bank_id, role="lead")
        .select_related("enterprise")
        .order_by("pk")[: len(needs_bank)]
    ]
    no_loan = list(
        Enterprise.objects.filter(
            list_memberships__run__is_current=True,
            list_memberships__list_type="no_loan",
            region__code__startswith=COUNTY,
        )
        .exclude(pk__in=[e.pk for e in leads])
        .order_by("pk")[: len(PLAN) - len(needs_bank)]
    )
    firms = leads + no_loan
    plan = [p for p in PLAN if p[2] != "pending"][: len(leads)] + [
        p for p in PLAN if p[2] == "pending"
    ][: len(no_loan)]
    today = timezone.localdate()
    met = dict.fromkeys(FiveStandard.values, True)
    pushed = []
    lead_banks = dict(
        BankAssignment.objects.filter(enterprise__in=firms, role="lead").values_list(
            "enterprise_id", "bank_id"
        )
    )
    for offset, (firm, (amount, purpose, outcome)) in enumerate(zip(firms, plan, strict=False)):
        with acting_as(banker, via="demo"), transaction.atomic():
            visit = Visit.objects.create(
                enterprise=firm,
                visited_on=today - timedelta(days=20 - offset),
                bank_id=lead_banks.get(firm.pk),
                bank_officer=banker,
                township_worker=township,
                operating_normally=True,
                has_need=True,
                need_amount=Decimal(amount),
                need_purpose=purpose,
                need_term_months=12,
                intent="strong",
                note="走访核实：生产经营正常，订单增长，需补充流动资金。",
                created_by=banker,
            )
            visit_recorded.send(sender=Visit, visit=visit, user=banker, created=True)
        app = Application.objects.get(enterprise=firm, status="pending")
        if outcome == "pending":
            continue
        with acting_as(checker, via="demo"):
            if outcome == "rejected":
                check_application(
                    checker,
                    app,
                    {**met, "good_credit": False},
                    "纳税信用等级偏低，暂缓推荐",
                    app.version,
                )
                continue
            check_application(checker, app, met, "", app.version)
        if outcome == "checked":
            continue
        app.refresh_from_db()
        with acting_as(approver, via="demo"):
            recommendation = approve_application(approver, app, app.version)
        if outcome == "pushed":
            pushed.append(recommendation.pk)
    batches = []
    if pushed:
        with acting_as(checker, via="demo"):
            batches = push_recommendations(checker, pushed)
    job = jobs.run_now("screening.rebuild", params={"trigger": "demo"})
    return (
        f"{len(firms)} applications, {len(pushed)} pushed in {len(batches)} batch(es); "
        f"lists rebuilt: {job.get_status_display()}"
    )
