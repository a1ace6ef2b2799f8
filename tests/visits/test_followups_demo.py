"""The demo's follow-ups step: items in every status (one escalated), overdue due visits and a
campaign, on a small stand-in for the demo county."""

from demo import followitems
from demo.services import create_users
from screening.models import ListMembership, ScreeningRun
from tests.factories import make_assignment, make_bank, make_enterprise
from visits.models import Campaign, CoordinationItem, DueVisit


def test_the_demo_shows_items_in_every_status_overdue_visits_and_a_campaign(regions):
    bank = make_bank(code="WZB-PY", name="温州银行平阳支行")
    create_users()
    run = ScreeningRun.objects.create(region_id="330326", status="succeeded", is_current=True)
    firms = [make_enterprise(followitems.TOWNSHIP) for _ in range(8)]
    for firm in firms[:4]:
        make_assignment(firm, bank)
    for firm in firms:
        ListMembership.objects.create(run=run, list_type="key_visit", enterprise=firm, tier=1)

    followitems.load()

    statuses = set(CoordinationItem.objects.values_list("status", flat=True))
    assert statuses == {"open", "in_progress", "resolved"}
    assert CoordinationItem.objects.filter(level="city").exists()
    assert CoordinationItem.objects.filter(owner_bank=bank).exists()
    campaign = Campaign.objects.get(name=followitems.CAMPAIGN_NAME)
    assert DueVisit.objects.filter(campaign=campaign).exists()
    from django.utils import timezone

    overdue = DueVisit.objects.filter(done_by__isnull=True, due_on__lt=timezone.localdate())
    assert overdue.count() >= 2
    before = CoordinationItem.objects.count()
    followitems.load()  # a second run adds nothing
    assert CoordinationItem.objects.count() == before
