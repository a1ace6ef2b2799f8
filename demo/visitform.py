"""Demo visits (走访): the township worker and the banker record a few visits through the
visit service, so 我的走访, the visit pages and the enterprise pages' visit sections show data."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User

# (who, days ago, round, method, has need, amount, purpose, term, guarantees, intent, problems, note)
DEMO_VISITS = [
    (
        "banker",
        12,
        "first",
        "on_site",
        True,
        "300",
        "working_capital",
        12,
        ["credit", "surety"],
        "strong",
        ["collateral"],
        "订单增长，需要备货资金；厂房为租赁，缺少抵押物",
    ),
    (
        "banker",
        5,
        "first",
        "phone",
        False,
        None,
        "",
        None,
        [],
        "none",
        [],
        "企业经营正常，暂无融资需求",
    ),
    (
        "banker",
        2,
        "return",
        "on_site",
        True,
        "150",
        "equipment",
        36,
        ["mortgage"],
        "moderate",
        ["rate"],
        "计划购置数控设备，关注贷款利率",
    ),
    (
        "township",
        20,
        "first",
        "on_site",
        True,
        "80",
        "upgrade",
        24,
        ["credit"],
        "strong",
        ["paperwork", "policy"],
        "希望了解技改补贴政策，材料准备有困难",
    ),
    (
        "township",
        9,
        "second",
        "online",
        False,
        None,
        "",
        None,
        [],
        "moderate",
        [],
        "二次走访：企业已通过其他渠道解决资金",
    ),
    (
        "township",
        1,
        "first",
        "on_site",
        True,
        "50",
        "working_capital",
        12,
        ["surety"],
        "strong",
        ["guarantee"],
        "个体户，缺少担保人",
    ),
]


def load():
    """Record the demo visits (idempotent: each has a fixed draft key); returns the count."""
    from core.history import acting_as
    from visits.services.visits import record_visit, visitable_enterprises

    today = timezone.localdate()
    used = set()
    made = 0
    for n, row in enumerate(DEMO_VISITS):
        (
            who,
            days,
            round_,
            method,
            need,
            amount,
            purpose,
            term,
            guarantees,
            intent,
            problems,
            note,
        ) = row
        user = User.objects.get(username=who)
        enterprise = visitable_enterprises(user).exclude(pk__in=used).order_by("pk").first()
        if enterprise is None:
            continue
        used.add(enterprise.pk)
        data = {
            "enterprise": enterprise,
            "round": round_,
            "visited_on": today - timedelta(days=days),
            "method": method,
            "operating_normally": True,
            "has_need": need,
            "need_amount": Decimal(amount) if amount else None,
            "need_purpose": purpose,
            "need_term_months": term,
            "acceptable_guarantees": guarantees,
            "intent": intent,
            "problems": problems,
            "note": note,
            "next_visit_on": None,
            "township_worker_name": "",
            "bank_officer_name": "",
        }
        key = uuid.uuid5(uuid.NAMESPACE_URL, f"rongxie-demo-visit-{n}")
        with acting_as(user, via="cli"):
            _visit, created = record_visit(user, data, client_key=key)
        made += created
    return made
