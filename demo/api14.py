"""Demo step of the coordination imports and the bank API (issues 14 and 15): a township's paper
visit forms (``visits``), a provincial recommendation list (``recommendations``) and a bank's
credit approvals (``approvals``) go through the one import engine, so the visits, coordination
items, recommendations and approvals of the API (/api/v1/visits/ …) have rows to show; and the
banker's system sends two loans through the bank API (POST /api/v1/loans/)."""

import csv
import tempfile
from datetime import timedelta
from pathlib import Path

from django.utils import timezone


def _write(path, header, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def load(count=40):
    """Import a few visits, recommendations and approvals of assigned demo enterprises."""
    from banks.models import BankAssignment

    from .services import import_demo_file

    leads = list(
        BankAssignment.objects.filter(role="lead")
        .select_related("enterprise")
        .order_by("enterprise_id")[:count]
    )
    if not leads:
        return "no assigned enterprises"
    today = timezone.localdate()
    problems = ["担保不足", "利率、手续繁琐", "", "抵押物不足；政策咨询", ""]
    visits, recommendations, approvals = [], [], []
    for i, lead in enumerate(leads):
        uscc, bank = lead.enterprise.uscc, lead.bank_id
        need = i % 3 != 2
        visits.append(
            [uscc, (today - timedelta(days=5 + i)).isoformat(), "首次走访", "上门", "", bank,
             "", "是", "是" if need else "否", f"{50 + 10 * i}" if need else "", "流动资金",
             "信用、保证", "强" if need else "暂无", problems[i % len(problems)], "纸质走访表录入"]
        )  # fmt: skip
        if need and i % 2 == 0:
            recommendations.append(
                [uscc, bank, (today - timedelta(days=2 + i)).isoformat(), "省平台-演示", "100"]
            )
        if need and i % 4 == 0:
            approvals.append(
                [uscc, bank, f"DEMO-A-{i:04d}", (today - timedelta(days=1)).isoformat(), "80",
                 "流动资金贷款", "12", "保证"]
            )  # fmt: skip
    with tempfile.TemporaryDirectory() as directory:
        d = Path(directory)
        lines = [
            import_demo_file(
                "visits",
                _write(d / "visits.csv",
                       ["统一社会信用代码", "走访日期", "走访轮次", "走访方式", "乡镇工作人员",
                        "银行机构代码", "银行客户经理", "是否正常经营", "是否有融资需求",
                        "需求金额（万元）", "资金用途", "可接受担保方式", "融资意愿",
                        "需协调问题", "备注"], visits),
            ),
            import_demo_file(
                "recommendations",
                _write(d / "recommendations.csv",
                       ["统一社会信用代码", "推荐银行机构代码", "推荐日期", "推荐批次",
                        "需求金额（万元）"], recommendations),
            ),
            import_demo_file(
                "approvals",
                _write(d / "approvals.csv",
                       ["统一社会信用代码", "银行机构代码", "授信编号", "审批日期",
                        "授信金额（万元）", "产品类型", "授信期限（月）", "担保方式"], approvals),
            ),
        ]  # fmt: skip
    lines.append(bank_system_loans(today))
    return " | ".join(lines)


def bank_system_loans(today):
    """The banker's bank system sends two loans through the bank API's upsert: they are in the
    change history, and their first loans and stages follow in the ``loans.sent_loans`` job."""
    from accounts.models import User
    from enterprises.models import Enterprise
    from loans.api.upserts import LOANS, upsert

    banker = User.objects.get(username="banker")
    # not the enterprises of demo/loans.py's story (its first loan, its renewal chain)
    mine = (
        Enterprise.objects.restrict(banker, "report")
        .exclude(loans__loan_no__startswith="DEMO-JJ-")
        .order_by("pk")
    )
    # a first loan where the branch has an enterprise without one (the stage moves)
    firms = list(mine.filter(loans__isnull=True)[:2]) or list(mine[:2])
    records = [
        {
            "bank_code": banker.bank_id,
            "loan_no": f"DEMO-API-{i + 1:03d}",
            "uscc": firm.uscc,
            "disbursed_on": (today - timedelta(days=3)).isoformat(),
            "matures_on": (today + timedelta(days=362)).isoformat(),
            "amount": "60",
            "balance": "60",
            "product": "working_capital",
            "guarantee": "surety",
            "rate": "3.6",
        }
        for i, firm in enumerate(firms)
    ]
    if not records:
        return "bank API: no enterprise in the branch's scope"
    answer = upsert(banker, LOANS, records, via="api")
    return f"bank API: {answer['created']} loans sent"
