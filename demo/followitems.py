"""Demo: follow-ups and coordination items (issue 14), so 待走访 and 问题协调 show data.

Visits of the demo township worker (昆阳镇) with the demo banker's branch, recorded the way the
visit service records them (the row, then ``visit_recorded`` in the same transaction), some
weeks ago so that a few follow-ups are overdue; their problems become items in every status,
one of them escalated to the city; and a second-round campaign of the township's tier-1
key-visit enterprises fills the township worker's due list.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.history import acting_as
from enterprises.models import Enterprise, Region

TOWNSHIP = "330326100"  # 昆阳镇
CAMPAIGN_NAME = "昆阳镇第一层级二次走访"

# (days ago, need, intent, problems, what happens to the items afterwards)
VISITS = [
    (45, True, "strong", ["guarantee"], "open"),
    (40, True, "moderate", ["collateral", "policy"], "in_progress"),
    (35, False, "strong", ["rate"], "resolved"),
    (20, True, "strong", ["policy"], "escalated"),
    (12, True, "moderate", ["paperwork"], "open"),
    (5, False, "none", [], None),
]


def _record(user, enterprise, **fields):
    from visits.models import Visit
    from visits.signals import visit_recorded

    with transaction.atomic():
        visit = Visit.objects.create(enterprise=enterprise, created_by=user, **fields)
        visit_recorded.send(sender=Visit, visit=visit, user=user, created=True)
    return visit


def load():
    """Add the demo's visits, items and campaign (once); returns a one-line summary."""
    from visits.models import Campaign, CoordinationItem, DueVisit
    from visits.services import followups, items

    if Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
        return _("already present")
    worker = User.objects.get(username="township")
    banker = User.objects.get(username="banker")
    staff = User.objects.get(username="taskforce")
    city = User.objects.get(username="city")
    today = timezone.localdate()
    # The banker's own enterprises in the township first (their items land in its list).
    mine = list(
        Enterprise.objects.filter(region_id=TOWNSHIP, bank_assignments__bank_id=banker.bank_id)
        .distinct()
        .order_by("pk")[: len(VISITS)]
    )
    others = Enterprise.objects.filter(region_id=TOWNSHIP).exclude(pk__in=[e.pk for e in mine])
    firms = mine + list(others.order_by("pk")[: len(VISITS) - len(mine)])
    with acting_as(worker, via="demo"):
        for enterprise, (ago, need, intent, problems, _fate) in zip(firms, VISITS, strict=False):
            _record(
                worker,
                enterprise,
                visited_on=today - timedelta(days=ago),
                round="first",
                township_worker=worker,
                bank_id=banker.bank_id,
                bank_officer=banker,
                has_need=need,
                need_amount=100 if need else None,
                need_purpose="working_capital" if need else "",
                intent=intent,
                problems=problems,
                note="走访了解融资需求" if need else "",
                operating_normally=True,
            )
    for enterprise, (*_rest, fate) in zip(firms, VISITS, strict=False):
        for item in CoordinationItem.objects.filter(enterprise=enterprise).order_by("pk"):
            actor = banker if item.owner_bank_id == banker.bank_id else staff
            with acting_as(actor, via="demo"):
                if fate == "in_progress":
                    items.update_item(actor, item, {"status": "in_progress"}, item.version)
                elif fate == "resolved":
                    items.update_item(
                        actor,
                        item,
                        {"status": "resolved", "resolution": "已协调银行下调利率 20 个基点"},
                        item.version,
                    )
                elif fate == "escalated":
                    items.escalate(staff, item, "涉及市级政策性担保基金，县级无法解决")
                    item.refresh_from_db()
                    with acting_as(city, via="demo"):
                        items.update_item(city, item, {"status": "in_progress"}, item.version)
    county = Region.objects.get(code=TOWNSHIP[:6])
    with acting_as(staff, via="demo"):
        followups.launch_campaign(
            staff,
            CAMPAIGN_NAME,
            county,
            {"tiers": [1], "township": TOWNSHIP},
            today + timedelta(days=30),
        )
    open_due = DueVisit.objects.filter(done_by__isnull=True)
    return _("{items} coordination items, {due} due visits ({overdue} overdue)").format(
        items=CoordinationItem.objects.count(),
        due=open_due.count(),
        overdue=open_due.filter(due_on__lt=today).count(),
    )
