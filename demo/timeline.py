"""Demo: the enterprise timeline shows its story on a fresh demo.

The enterprise the banker marked 已授信 (credit granted) draws down its loan from the banker's
branch, and a first-time borrower of the key-visit list gets its first loan there too: both
come in one small loan-ledger file through the import pipeline, and the lists are rebuilt, so
the second run's diff (entered 有贷户 / 首贷户, left 无贷户) shows on the borrower's timeline.
"""

import csv
import tempfile
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from accounts.models import User
from banks.models import BankAssignment
from core import jobs
from enterprises.signals import batch_applied
from loans.models import Loan
from loans.services import recompute_stages
from screening.selectors import current_memberships

COUNTY = "330326"  # demo.services.COUNTY (平阳县), whose staff log in as taskforce

HEADER = [
    "统一社会信用代码",
    "银行机构代码",
    "借据号",
    "放款日期",
    "到期日期",
    "放款金额（万元）",
    "贷款余额（万元）",
    "产品类型",
    "担保方式",
    "年利率（%）",
    "是否无还本续贷",
    "原借据号",
]


def timeline_enterprises():
    """(the banker's credited enterprise, a no-loan key-visit enterprise), or None each."""
    banker = User.objects.filter(username="banker").first()
    if banker is None or not banker.bank_id:
        return banker, None, None
    credited = (
        BankAssignment.objects.filter(bank_id=banker.bank_id, role="lead", status="credited")
        .select_related("enterprise")
        .order_by("pk")
        .first()
    )
    loaded = Loan.objects.filter(bank_id=banker.bank_id, loan_no=f"{banker.bank_id}-TL0002")
    if loaded.exists():  # after load(): the newcomer borrows now
        newcomer = loaded.select_related("enterprise").first()
        return banker, credited.enterprise if credited else None, newcomer.enterprise
    key_visit = current_memberships("key_visit").values("enterprise_id")
    newcomer = (
        current_memberships("no_loan")
        .filter(enterprise_id__in=key_visit, enterprise__region__code__startswith=COUNTY)
        .exclude(enterprise__loans__isnull=False)
        .select_related("enterprise")
        .order_by("enterprise_id")
        .first()
    )
    return (
        banker,
        credited.enterprise if credited else None,
        newcomer.enterprise if newcomer else None,
    )


def load(stdout=None):
    """Import the two loans and rebuild the lists; returns the credited enterprise (or None)."""
    from demo.services import import_demo_file

    banker, credited, newcomer = timeline_enterprises()
    if banker is None or (credited is None and newcomer is None):
        return None
    today = timezone.localdate()
    rows = []
    for serial, (enterprise, amount, days_ago) in enumerate(
        [(credited, "300.00", 12), (newcomer, "50.00", 8)], start=1
    ):
        if enterprise is None:
            continue
        start = today - timedelta(days=days_ago)
        loan_no = f"{banker.bank_id}-TL{serial:04d}"
        if Loan.objects.filter(bank_id=banker.bank_id, loan_no=loan_no).exists():
            return credited  # loaded before
        rows.append(
            [
                enterprise.uscc,
                banker.bank_id,
                loan_no,
                start.isoformat(),
                (start + timedelta(days=365)).isoformat(),
                amount,
                amount,
                "流动资金贷款",
                "信用",
                "3.45",
                "否",
                "",
            ]
        )
    with tempfile.TemporaryDirectory() as directory, batch_applied.muted():
        path = Path(directory) / "demo-loans-timeline.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            writer.writerows(rows)
        summary = import_demo_file("loans", path)
    # The import's signal is muted (the rebuild below does the lists): the stages by hand, so
    # the newcomer's first loan shows as 无贷户 → 首贷户 on its timeline.
    recompute_stages(enterprise_ids=[e.pk for e in (credited, newcomer) if e is not None])
    job = jobs.run_now("screening.rebuild", params={"trigger": "demo"})
    if stdout is not None:
        stdout.write(f"demo: timeline loans: {summary}; lists: {job.get_status_display()}")
        for enterprise in (credited, newcomer):
            if enterprise is not None:
                stdout.write(f"demo: timeline: {enterprise.name} /enterprises/{enterprise.pk}/")
    return credited
