"""Follow-ups: a visit with a need schedules the next one, the next visit closes it, campaigns
fill the due lists of their sector, tier or township only, and each desk sees its own list."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.choices import Role
from core.models import Job
from core.writes import OutOfScope
from enterprises.models import Region
from screening.models import ListMembership, ScreeningRun
from tests.factories import (
    LUCHENG,
    LUCHENG_STREET,
    PINGYANG,
    PINGYANG_TOWN,
    make_assignment,
    make_enterprise,
    make_user,
)
from tests.visits.followhelpers import days, record
from visits.models import Campaign, DueVisit
from visits.services import followups as svc

AOJIANG = "330326101"


@pytest.fixture
def firm(cast):
    return make_enterprise(PINGYANG_TOWN)


def open_due(enterprise):
    return list(DueVisit.objects.filter(enterprise=enterprise, done_by__isnull=True))


def test_a_visit_with_a_need_is_due_again_in_30_days(cast, firm):
    visit = record(cast.township, firm, has_need=True, need_amount=50)
    (due,) = open_due(firm)
    assert due.due_on == visit.visited_on + timedelta(days=30)
    assert (due.reason, due.round, due.source_visit) == ("follow_up", "second", visit)
    assert due.opened_on == visit.visited_on


def test_strong_intent_or_a_chosen_date_also_schedules_and_no_need_does_not(cast, firm):
    other = make_enterprise(PINGYANG_TOWN)
    third = make_enterprise(PINGYANG_TOWN)
    record(cast.township, firm, intent="strong")
    record(cast.township, other, has_need=True, next_visit_on=days(7), round="second")
    record(cast.township, third, intent="moderate")
    assert open_due(firm)[0].due_on == days(30)
    (chosen,) = open_due(other)
    assert chosen.due_on == days(7) and chosen.round == "return"
    assert open_due(third) == []


def test_the_next_visit_closes_the_follow_up_and_schedules_its_own(cast, firm):
    first = record(cast.township, firm, has_need=True, visited_on=days(-10))
    (due,) = open_due(firm)
    second = record(cast.officer, firm, has_need=True, round="second", bank=cast.bank)
    due.refresh_from_db()
    assert due.done_by == second
    (nxt,) = open_due(firm)
    assert nxt.source_visit == second and nxt.due_on == days(30)
    assert first.pk != second.pk


def test_a_visit_dated_before_a_due_visit_arose_does_not_close_it(cast, firm):
    record(cast.township, firm, has_need=True)  # due since today
    record(cast.township, firm, visited_on=days(-5))  # an older visit, recorded late
    assert len(open_due(firm)) == 1


def test_recording_the_same_visit_again_moves_its_follow_up_instead_of_adding_one(cast, firm):
    visit = record(cast.township, firm, has_need=True)
    visit.next_visit_on = days(12)
    visit.save()
    svc.schedule_after_visit(visit)
    (due,) = open_due(firm)
    assert due.due_on == days(12)
    visit.has_need, visit.next_visit_on = False, None
    visit.save()
    svc.schedule_after_visit(visit)
    assert open_due(firm) == []


# --- The due list ------------------------------------------------------------------------


def test_each_desk_sees_its_own_due_visits_soonest_first(cast, firm):
    aojiang_worker = make_user("aojiang", Role.TOWNSHIP_WORKER, region=AOJIANG)
    late = make_enterprise(PINGYANG_TOWN)
    elsewhere = make_enterprise(AOJIANG)
    outside = make_enterprise(LUCHENG_STREET)
    make_assignment(firm, cast.bank)
    make_assignment(late, cast.other_bank)
    record(cast.township, firm, has_need=True, next_visit_on=days(5))
    record(cast.township, late, has_need=True, visited_on=days(-40))  # overdue by 10 days
    record(aojiang_worker, elsewhere, has_need=True)
    record(cast.outsider_staff, outside, has_need=True)

    def firms(user):
        return [d.enterprise for d in svc.due_list(user)]

    assert firms(cast.township) == [late, firm]
    assert firms(aojiang_worker) == [elsewhere]
    assert firms(cast.staff) == [late, firm, elsewhere]
    assert firms(cast.officer) == [firm]  # only its assigned enterprise
    assert firms(cast.outsider_staff) == [outside]
    assert firms(cast.regulator) == [] and firms(cast.partner) == []
    rows = svc.mark_overdue(svc.due_list(cast.township))
    assert [r.overdue for r in rows] == [True, False]
    assert rows[0].days_left == -10
    assert rows[1].lead_bank_name == cast.bank.name


def _due_rows(cast, n):
    for _ in range(n):
        enterprise = make_enterprise(PINGYANG_TOWN)
        make_assignment(enterprise, cast.bank)
        record(cast.township, enterprise, has_need=True)


def test_the_due_list_page_reads_the_same_number_of_queries_for_2_and_20_rows(cast, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.township)
    counts = []
    for n in (2, 18):
        _due_rows(cast, n)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/visits/due/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert DueVisit.objects.count() == 20
    assert counts[0] == counts[1]


# --- Campaigns ---------------------------------------------------------------------------


@pytest.fixture
def key_list(cast):
    """Key-visit lists of 平阳县 and 鹿城区 (current runs): firms by tier, sector, township."""
    runs = {
        county: ScreeningRun.objects.create(region_id=county, status="succeeded", is_current=True)
        for county in (PINGYANG, LUCHENG)
    }
    firms = {
        "c1_town": make_enterprise(PINGYANG_TOWN, industry_code="C3311"),
        "c2_aojiang": make_enterprise(AOJIANG, industry_code="C1810"),
        "f1_town": make_enterprise(PINGYANG_TOWN, industry_code="F5123"),
        "c3_town": make_enterprise(PINGYANG_TOWN, industry_code="C2926"),
        "c1_lucheng": make_enterprise(LUCHENG_STREET, industry_code="C3311"),
    }
    tiers = {"c1_town": 1, "c2_aojiang": 2, "f1_town": 1, "c3_town": 3, "c1_lucheng": 1}
    for key, enterprise in firms.items():
        run = runs[LUCHENG if key.endswith("lucheng") else PINGYANG]
        ListMembership.objects.create(
            run=run, list_type="key_visit", enterprise=enterprise, tier=tiers[key]
        )
    # on another list only: never in a campaign
    firms["not_key"] = make_enterprise(PINGYANG_TOWN, industry_code="C3311")
    ListMembership.objects.create(
        run=runs[PINGYANG], list_type="active", enterprise=firms["not_key"]
    )
    return firms


def campaign_firms(campaign):
    return {d.enterprise for d in DueVisit.objects.filter(campaign=campaign)}


def test_a_campaign_fills_the_due_lists_of_its_sector_and_tiers_in_the_county(cast, key_list):
    county = Region.objects.get(code=PINGYANG)
    campaign, job = svc.launch_campaign(
        cast.staff, "制造业二次走访", county, {"section": "c", "tiers": ["1", "2"]}, days(20)
    )
    assert job is None
    assert campaign.criteria == {"section": "C", "tiers": [1, 2]}
    assert campaign_firms(campaign) == {key_list["c1_town"], key_list["c2_aojiang"]}
    due = DueVisit.objects.filter(campaign=campaign).first()
    assert (due.due_on, due.round, due.reason) == (days(20), "second", "campaign")
    assert due.opened_on == timezone.localdate()
    # the township worker now has the 昆阳镇 one in its list
    assert [d.enterprise for d in svc.due_list(cast.township)] == [key_list["c1_town"]]


def test_a_township_campaign_takes_the_townships_whole_key_visit_list(cast, key_list):
    county = Region.objects.get(code=PINGYANG)
    campaign, _job = svc.launch_campaign(
        cast.staff, "昆阳镇二次走访", county, {"township": PINGYANG_TOWN}, days(20)
    )
    assert campaign_firms(campaign) == {
        key_list["c1_town"],
        key_list["f1_town"],
        key_list["c3_town"],
    }


def test_an_enterprise_already_due_by_the_campaign_date_is_not_added_again(cast, key_list):
    record(cast.township, key_list["c1_town"], has_need=True, next_visit_on=days(3))
    county = Region.objects.get(code=PINGYANG)
    campaign, _job = svc.launch_campaign(cast.staff, "二次走访", county, {"tiers": [1]}, days(20))
    assert campaign_firms(campaign) == {key_list["f1_town"]}


def test_a_city_campaign_covers_every_county_and_the_county_staff_only_its_own(cast, key_list):
    city = Region.objects.get(code="330300")
    with pytest.raises(OutOfScope):
        svc.launch_campaign(cast.staff, "越权", city, {}, days(20))
    lucheng = Region.objects.get(code=LUCHENG)
    with pytest.raises(OutOfScope):
        svc.launch_campaign(cast.staff, "越权", lucheng, {}, days(20))
    for user in (cast.township, cast.officer, cast.regulator, cast.partner):
        with pytest.raises(OutOfScope):
            svc.launch_campaign(user, "无权", Region.objects.get(code=PINGYANG), {}, days(20))
    assert not Campaign.objects.exists() and not DueVisit.objects.exists()
    campaign, _job = svc.launch_campaign(cast.city_staff, "全市", city, {"tiers": [1]}, days(20))
    assert campaign_firms(campaign) == {
        key_list["c1_town"],
        key_list["f1_town"],
        key_list["c1_lucheng"],
    }


def test_campaign_input_is_checked_with_messages_by_field(cast, key_list):
    county = Region.objects.get(code=PINGYANG)
    with pytest.raises(ValidationError) as bad:
        svc.launch_campaign(cast.staff, " ", county, {}, date(2020, 1, 1))
    assert set(bad.value.message_dict) == {"name", "due_on"}
    with pytest.raises(ValidationError) as bad:
        svc.launch_campaign(
            cast.staff,
            "x",
            county,
            {"section": "Z", "tiers": [4], "township": "330302006"},
            days(9),
        )
    assert set(bad.value.message_dict) == {"section", "tiers", "township"}
    assert not Campaign.objects.exists()


def test_a_large_campaign_fills_the_due_lists_in_a_job_with_progress(
    cast, key_list, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(svc, "CAMPAIGN_INLINE_LIMIT", 1)
    county = Region.objects.get(code=PINGYANG)
    with django_capture_on_commit_callbacks(execute=True):
        campaign, job = svc.launch_campaign(
            cast.staff, "大型活动", county, {"section": "C"}, days(20)
        )
    assert job is not None
    job = Job.objects.get(pk=job.pk)  # ran in-process on commit
    assert job.status == "succeeded", job.error
    assert job.counts["added"] == 3 and job.progress_done == job.progress_total > 1
    assert campaign_firms(campaign) == {
        key_list["c1_town"],
        key_list["c2_aojiang"],
        key_list["c3_town"],
    }


def test_a_visit_closes_the_campaigns_due_visit(cast, key_list):
    county = Region.objects.get(code=PINGYANG)
    campaign, _job = svc.launch_campaign(cast.staff, "二次", county, {"tiers": [3]}, days(20))
    visit = record(cast.township, key_list["c3_town"], round="second")
    assert DueVisit.objects.get(campaign=campaign).done_by == visit
    assert svc.due_list(cast.township).filter(campaign=campaign).count() == 0


def test_through_the_visit_service_a_need_schedules_and_a_withdrawal_undoes_it(cast, firm):
    from visits.services.visits import record_visit, withdraw_visit

    first = record(cast.township, firm, has_need=True, visited_on=days(-3))
    (earlier,) = open_due(firm)
    visit, created = record_visit(
        cast.township,
        {
            "enterprise": firm,
            "round": "second",
            "visited_on": timezone.localdate(),
            "method": "on_site",
            "has_need": True,
            "need_amount": 30,
            "need_purpose": "working_capital",
            "problems": ["paperwork"],
        },
    )
    assert created and first.pk != visit.pk
    earlier.refresh_from_db()
    assert earlier.done_by == visit
    (follow_up,) = open_due(firm)
    assert follow_up.source_visit == visit and follow_up.due_on == days(30)
    assert firm.coordination_items.get().problem == "paperwork"

    withdraw_visit(cast.township, visit, visit.version)
    earlier.refresh_from_db()
    assert earlier.done_by is None  # open again: the withdrawn visit did not happen
    assert open_due(firm) == [earlier]
