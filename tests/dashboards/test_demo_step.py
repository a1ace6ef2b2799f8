"""The dashboards' demo step: the landing dashboards stored, the new KPIs read from the rows of
the other demo steps (here the hand-made ones, dated this year)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from demo import dashboards as demo_dashboards
from tests.dashboards.helpers import make_approval, make_recommendation, make_visit
from tests.factories import PINGYANG, make_enterprise, make_loan, make_user

pytestmark = pytest.mark.django_db


def test_demo_step_shows_non_zero_coordination_kpis(cast):
    from dashboards.models import StatsSnapshot

    make_user("taskforce", Role.TASK_FORCE, region=PINGYANG)
    today = timezone.localdate()
    day = today - timedelta(days=min(10, today.timetuple().tm_yday - 1))
    ent = make_enterprise()
    make_visit(ent, day, has_need=True)
    make_recommendation(ent, cast.bank, day)
    make_approval(ent, cast.bank, day, "50")
    make_loan(ent, cast.bank, "50", today, matures_on=today + timedelta(days=365))
    figures = demo_dashboards.load()
    assert figures["visited_enterprises"] == 1
    assert figures["recommended_enterprises"] == 1
    assert figures["credited_enterprises"] == 1
    assert figures["credit_amount"] == 50
    assert figures["avg_days_to_disburse"] is not None
    assert StatsSnapshot.objects.exists()  # the landing dashboards are stored
