"""Demo step of the bank feedback (issue 14): decline reasons, credit granted with its amount,
materials complete with an overdue credit decision, and a bank's monthly feedback file
imported through the pipeline (the ``feedback`` kind).

Runs after the allocation (demo.services.set_up_bank_matching): the banker of 温州银行平阳支行
(WZB-PY) answers some of its leads on screen; another bank's report comes as a file.
"""

import csv
import tempfile
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from accounts.models import User

# (status, explanation, extra arguments of record_feedback), given by the banker on screen.
# ``materials_days_ago``: marked 已受理 with complete materials that many days ago first.
SCREEN_ANSWERS = [
    ("accepted", "材料齐全，审批中", {"materials_days_ago": 40}),  # the decision is overdue
    (
        "credited",
        "授信一年期流动资金贷款",
        {"credit_amount": "300", "credit_product": "working_capital", "materials_days_ago": 12},
    ),
    ("declined", "近两年有三次贷款逾期记录", {"decline_reason": "poor_credit"}),
    ("declined", "企业主要资产已抵押给其他银行，暂无可追加担保", {"decline_reason": "other"}),
    ("accepted", "材料齐全，审批中", {"materials_days_ago": 5}),  # still in time
]
# The first answers matter most: a small demo (few leads per branch) still shows them.
IMPORT_BANK = "PYRCB"  # 平阳农商银行 sends its month's feedback as a file
FILE_HEADER = ["统一社会信用代码", "银行机构代码", "反馈日期", "反馈结果", "不予授信原因", "说明"]


def answer_on_screen(banker, today):
    from banks.models import BankAssignment
    from banks.services.feedback import record_feedback

    leads = list(
        BankAssignment.objects.filter(
            bank_id=banker.bank_id, role="lead", status="pending"
        ).order_by("pk")[: len(SCREEN_ANSWERS)]
    )
    for assignment, (status, reason, extra) in zip(leads, SCREEN_ANSWERS, strict=False):
        extra = dict(extra)
        days_ago = extra.pop("materials_days_ago", None)
        if days_ago is not None:
            record_feedback(
                banker,
                assignment,
                "accepted",
                "材料齐全",
                materials_complete_on=today - timedelta(days=days_ago),
                feedback_on=today - timedelta(days=days_ago),
            )
        if status != "accepted" or days_ago is None:
            record_feedback(banker, assignment, status, reason, **extra)
    return len(leads)


def import_a_bank_report(today):
    """平阳农商银行's feedback file: a contact, an acceptance and a decline with its reason."""
    from banks.models import BankAssignment
    from demo.services import import_demo_file
    from enterprises.signals import batch_applied

    leads = list(
        BankAssignment.objects.filter(bank_id=IMPORT_BANK, role="lead", status="pending")
        .select_related("enterprise")
        .order_by("pk")[:3]
    )
    if not leads:
        return "no leads"
    day = (today - timedelta(days=3)).isoformat()
    results = [
        ("已联系", "", "电话联系财务负责人"),
        ("已受理", "", ""),
        ("不予授信", "经营状况不佳", "连续两年亏损"),
    ]
    rows = [
        [lead.enterprise.uscc, IMPORT_BANK, day, result, reason, note]
        for lead, (result, reason, note) in zip(leads, results, strict=False)
    ]
    # Feedback changes no screening list: no rebuild after this file (what the signal does).
    with tempfile.TemporaryDirectory() as directory, batch_applied.muted():
        path = Path(directory) / "平阳农商银行-反馈.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(FILE_HEADER)
            writer.writerows(rows)
        return import_demo_file("feedback", path)


def load():
    """Run the demo's feedback step; returns a one-line summary."""
    from core.history import acting_as

    today = timezone.localdate()
    banker = User.objects.get(username="banker")
    with acting_as(banker, via="demo"):
        answered = answer_on_screen(banker, today)
    imported = import_a_bank_report(today)
    return f"banker answered {answered}; {IMPORT_BANK} file: {imported}"
