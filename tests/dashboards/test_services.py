"""KPI figures against the hand-made fixture (tests/dashboards/helpers.py), computed by hand."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dashboards import services, snapshots
from enterprises.models import Region
from tests.dashboards.helpers import AOJIANG, KUNYANG, build_world, lists_of
from tests.factories import LUCHENG, PINGYANG, WENZHOU

pytestmark = pytest.mark.django_db

START, END = date(2025, 1, 1), date(2025, 6, 30)


def stats(user, code, start=START, end=END, group_by=None):
    return snapshots.compute_stats(user, Region.objects.get(code=code), start, end, group_by)


@pytest.fixture
def world(cast):
    return build_world(cast)


def test_county_totals(cast, world):
    t = stats(cast.staff, PINGYANG)["totals"]
    # disbursed in period in 平阳: A 100+50, B 60+70 (renewal), C 200, D 30
    assert t["disbursed_amount"] == Decimal("510")
    # guarantee 信用: A 100, B 60
    assert t["credit_loan_amount"] == Decimal("160")
    # A (first 02-10, counted once despite 2 loans) and D (06-30 = end; snapshot after end
    # ignored). B had a 2024 loan; C's credit data has a 2023 first-loan date.
    assert t["first_loan_enterprises"] == 2
    assert t["first_loan_amount"] == Decimal("130")
    # at 06-30: B renewal balance 65 + C 90; C's 40 matures exactly on 06-30 → not outstanding
    assert t["renewal_balance"] == Decimal("155")
    # at 01-01: C 40 + C 90 = 130 → +25
    assert t["renewal_increase_ytd"] == Decimal("25")
    # at 2024-06-30: only C's 40 → (155-40)/40
    assert t["renewal_yoy_growth"] == Decimal("2.875")


def test_city_contains_counties_and_townships(cast, world):
    t = stats(cast.city_staff, WENZHOU)["totals"]
    assert t["disbursed_amount"] == Decimal("1010")  # 510 + 鹿城 E 500
    assert t["credit_loan_amount"] == Decimal("660")
    assert t["first_loan_enterprises"] == 3
    assert t["first_loan_amount"] == Decimal("630")
    assert t["renewal_balance"] == Decimal("155")

    town = stats(cast.city_staff, KUNYANG)["totals"]
    assert town["disbursed_amount"] == Decimal("380")  # A 150, C 200, D 30
    assert town["credit_loan_amount"] == Decimal("100")
    assert town["first_loan_enterprises"] == 2
    assert town["renewal_balance"] == Decimal("90")
    assert town["renewal_increase_ytd"] == Decimal("-40")  # 90 − (40 + 90)
    assert town["renewal_yoy_growth"] == Decimal("1.25")  # (90 − 40) / 40


def test_zero_base_growth_is_null(cast, world):
    t = stats(cast.outsider_staff, LUCHENG)["totals"]
    assert t["disbursed_amount"] == Decimal("500")
    assert t["first_loan_enterprises"] == 1
    assert t["renewal_balance"] == 0
    assert t["renewal_yoy_growth"] is None


def test_empty_region_and_empty_period(cast, world):
    empty = stats(cast.city_staff, "330327")["totals"]  # 苍南县: nobody registered
    assert empty["disbursed_amount"] == 0
    assert empty["first_loan_enterprises"] == 0
    assert empty["renewal_balance"] == 0
    assert empty["renewal_yoy_growth"] is None

    quiet = stats(cast.staff, PINGYANG, date(2023, 2, 1), date(2023, 3, 31))["totals"]
    assert quiet["disbursed_amount"] == 0
    assert quiet["credit_loan_amount"] == 0
    assert quiet["first_loan_enterprises"] == 0
    assert quiet["first_loan_amount"] == 0
    assert quiet["renewal_balance"] == 0
    assert quiet["renewal_increase_ytd"] == 0
    assert quiet["renewal_yoy_growth"] is None


def test_screening_kpis_are_null_without_a_list(cast, world, monkeypatch):
    monkeypatch.setattr(services, "current_list_sql", lambda region, list_type: None)
    t = stats(cast.staff, PINGYANG)["totals"]
    assert t["active_entities"] is None
    assert t["no_loan_entities"] is None
    assert t["financing_coverage_rate"] is None


def test_active_no_loan_and_coverage(cast, world, monkeypatch):
    e = world.ents
    active = [e[k] for k in "ABCDGHIJK"]
    # E is on the no-loan list but not in 平阳: outside the region, not counted
    no_loan = [e["H"], e["I"], e["E"]]
    monkeypatch.setattr(services, "current_list_sql", lists_of(active, no_loan))
    t = stats(cast.staff, PINGYANG)["totals"]
    assert t["active_entities"] == 9
    assert t["no_loan_entities"] == 2
    # small/micro or individual: A B D G H J K = 7; financed at end: A, B, D (loans),
    # G (latest snapshot 20). J's latest by end is 0 (08-01 ignored); K's loan matures on end.
    assert t["financing_coverage_rate"] == Decimal("0.5714")

    none_small = stats(cast.staff, PINGYANG, group_by="region")
    aojiang = next(r for r in none_small["rows"] if r["region"] == AOJIANG)
    assert aojiang["active_entities"] == 1
    assert aojiang["financing_coverage_rate"] == Decimal("1")


def test_coverage_null_when_no_small_entities(cast, world, monkeypatch):
    e = world.ents
    monkeypatch.setattr(services, "current_list_sql", lists_of([e["C"], e["I"]], [e["I"]]))
    t = stats(cast.staff, PINGYANG)["totals"]
    assert t["active_entities"] == 2
    assert t["no_loan_entities"] == 1
    assert t["financing_coverage_rate"] is None


def test_group_by_region(cast, world):
    result = stats(cast.staff, PINGYANG, group_by="region")
    rows = {r["region"]: r for r in result["rows"] if r["region"]}
    assert rows[KUNYANG]["disbursed_amount"] == Decimal("380")
    assert rows[AOJIANG]["disbursed_amount"] == Decimal("130")  # B 60 + 70
    assert rows[AOJIANG]["renewal_balance"] == Decimal("65")
    assert rows[AOJIANG]["renewal_increase_ytd"] == Decimal("65")
    assert rows[AOJIANG]["renewal_yoy_growth"] is None
    assert rows[AOJIANG]["first_loan_enterprises"] == 0
    # every township of the county is listed, in code order, even without data
    assert len(rows) == Region.objects.filter(parent_id=PINGYANG).count()

    city = stats(cast.city_staff, WENZHOU, group_by="region")
    by_code = {r["region"]: r for r in city["rows"]}
    assert by_code[PINGYANG]["disbursed_amount"] == Decimal("510")
    assert by_code[LUCHENG]["disbursed_amount"] == Decimal("500")


def test_group_by_bank_rolls_up_to_institution(cast, world):
    rows = {r["key"]: r for r in stats(cast.staff, PINGYANG, group_by="bank")["rows"]}
    head = rows["PY-HEAD"]
    assert head["label"] == "温州银行"
    assert head["disbursed_amount"] == Decimal("380")
    assert head["first_loan_enterprises"] == 2
    assert head["renewal_balance"] == Decimal("90")
    assert head["active_entities"] is None
    other = rows["RA-BR"]
    assert other["disbursed_amount"] == Decimal("130")
    assert other["credit_loan_amount"] == Decimal("60")
    assert other["renewal_balance"] == Decimal("65")


def test_group_by_month(cast, world):
    rows = {r["key"]: r for r in stats(cast.staff, PINGYANG, group_by="month")["rows"]}
    assert list(rows) == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    assert rows["2025-01"]["disbursed_amount"] == Decimal("70")
    assert rows["2025-02"]["first_loan_enterprises"] == 1  # A
    assert rows["2025-03"]["disbursed_amount"] == Decimal("60")
    assert rows["2025-06"]["first_loan_amount"] == Decimal("30")  # D
    # renewal balance at each month end: Jan 40+65+90, May the same, June 65+90
    assert rows["2025-01"]["renewal_balance"] == Decimal("195")
    assert rows["2025-06"]["renewal_balance"] == Decimal("155")


def test_group_by_industry_and_entity_type(cast, world):
    rows = {r["key"]: r for r in stats(cast.staff, PINGYANG, group_by="industry")["rows"]}
    assert rows["C"]["disbursed_amount"] == Decimal("350")  # A 150 + C 200
    assert rows["F"]["disbursed_amount"] == Decimal("130")
    types = {r["key"]: r for r in stats(cast.staff, PINGYANG, group_by="entity_type")["rows"]}
    assert types["individual"]["first_loan_amount"] == Decimal("30")
    assert types["enterprise"]["first_loan_amount"] == Decimal("100")


def test_bank_officer_sees_only_its_branch(cast, world):
    t = stats(cast.officer, PINGYANG)["totals"]
    assert t["disbursed_amount"] == Decimal("380")  # B's loans are at another bank
    assert t["renewal_balance"] == Decimal("90")


def test_active_list_from_current_screening_run(cast, world):
    from screening.models import ListMembership, ScreeningRun

    e = world.ents
    current = ScreeningRun.objects.create(region_id=PINGYANG, status="succeeded", is_current=True)
    old = ScreeningRun.objects.create(region_id=PINGYANG, status="succeeded", is_current=False)
    for key in "AHI":
        ListMembership.objects.create(run=current, list_type="active", enterprise=e[key])
    ListMembership.objects.create(run=current, list_type="no_loan", enterprise=e["J"])
    ListMembership.objects.create(run=old, list_type="active", enterprise=e["B"])
    t = stats(cast.staff, PINGYANG)["totals"]
    assert t["active_entities"] == 3  # A, H, I: J is on another list, B on an old run
    assert t["no_loan_entities"] == 0  # J is on the no-loan list but not active
    ListMembership.objects.create(run=current, list_type="no_loan", enterprise=e["H"])
    assert stats(cast.staff, PINGYANG)["totals"]["no_loan_entities"] == 1
    assert t["financing_coverage_rate"] == Decimal("0.5")  # A of A, H (I is medium)
    # 鹿城区 has no screening run: null, never 0
    assert stats(cast.city_staff, LUCHENG)["totals"]["active_entities"] is None


def test_no_loan_count_is_the_current_no_loan_list_whatever_the_period(cast, world):
    from screening.selectors import current_memberships
    from screening.services import rebuild_region
    from tests.factories import make_census, make_loan

    for key in "HI":  # on the census's active list: both are active entities
        make_census(world.ents[key])
    # H borrows for the first time after the period's end: it has had a loan now, so it is
    # off the current no-loan list, and the dashboard of the earlier period agrees.
    make_loan(world.ents["H"], cast.bank, "5", date(2025, 9, 1))
    rebuild_region(Region.objects.get(code=PINGYANG))
    listed = current_memberships("no_loan").filter(enterprise__region__code__startswith=PINGYANG)
    assert set(listed.values_list("enterprise_id", flat=True)) == {world.ents["I"].pk}
    for start, end in [(START, END), (date(2023, 1, 1), date(2023, 12, 31))]:
        assert stats(cast.staff, PINGYANG, start, end)["totals"]["no_loan_entities"] == 1


def test_stored_result_never_outlives_a_change(cast, world):
    from dashboards.models import StatsSnapshot
    from tests.factories import make_loan

    first = stats(cast.staff, PINGYANG)["totals"]
    assert StatsSnapshot.objects.count() == 1
    again = stats(cast.staff, PINGYANG)
    assert again["totals"] == first
    assert isinstance(again["totals"]["disbursed_amount"], Decimal)
    make_loan(world.ents["H"], cast.bank, "7", date(2025, 6, 1))  # H's first loan
    after = stats(cast.staff, PINGYANG)["totals"]
    assert after["disbursed_amount"] == Decimal("517")
    assert after["first_loan_enterprises"] == 3
    # another scope never reads this user's stored figures
    assert stats(cast.officer, PINGYANG)["totals"]["disbursed_amount"] == Decimal("387")


def test_stored_result_never_outlives_a_rebuild(cast, world):
    from screening.services import rebuild_region

    assert stats(cast.staff, PINGYANG)["totals"]["active_entities"] is None  # stored: no list
    rebuild_region(Region.objects.get(code=PINGYANG))  # switches by UPDATE, no refresh job
    assert stats(cast.staff, PINGYANG)["totals"]["active_entities"] is not None


def test_refresh_recomputes_stale_results_for_the_same_scope(cast, world):
    from dashboards.models import StatsSnapshot
    from dashboards.snapshots import refresh_stale
    from tests.factories import make_loan

    stats(cast.officer, PINGYANG)
    make_loan(world.ents["H"], cast.other_bank, "9", date(2025, 6, 1))  # not the officer's bank
    make_loan(world.ents["I"], cast.bank, "4", date(2025, 6, 2))
    assert refresh_stale() == 1
    stored = StatsSnapshot.objects.get()
    assert Decimal(stored.payload["totals"]["disbursed_amount"]) == Decimal("384")  # 380 + 4
    assert stats(cast.officer, PINGYANG)["totals"]["disbursed_amount"] == Decimal("384")


def test_refresh_job_warms_each_user_regions_landing_dashboard(cast, world):
    from django.utils import timezone

    from core import jobs
    from dashboards.models import StatsSnapshot
    from dashboards.snapshots import compute_dashboard
    from tests.factories import make_loan

    # The landing dashboard covers this year; the world's loans are all of 2025.
    today = timezone.localdate()
    make_loan(world.ents["H"], cast.bank, "7", today, matures_on=today + timedelta(days=365))
    job = jobs.run_now("dashboards.refresh", user=cast.admin)
    assert job.status == "succeeded", job.error
    # regions of the cast's region users: 平阳县, 温州市, 昆阳镇, 鹿城区
    assert job.counts["warmed"] == 4
    stored = StatsSnapshot.objects.count()
    region = Region.objects.get(code=PINGYANG)
    today = timezone.localdate()
    result = compute_dashboard(cast.regulator, region, date(today.year, 1, 1), today)
    assert StatsSnapshot.objects.count() == stored  # served from the warmed result
    assert result["totals"]["disbursed_amount"] == Decimal("7")
    assert result["totals"]["first_loan_enterprises"] == 1


def test_a_finished_rebuild_refreshes_the_stored_figures(
    cast, world, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from core import jobs
    from core.models import Job
    from dashboards.models import StatsSnapshot
    from dashboards.services import GROUP_BY_CHOICES
    from dashboards.snapshots import data_version, snapshot_key, snapshot_spec

    region = Region.objects.get(code=PINGYANG)
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        rebuild = jobs.run_now("screening.rebuild", user=cast.staff, region=region)
    assert rebuild.status == "succeeded", rebuild.error
    refresh = Job.objects.get(kind="dashboards.refresh")
    assert refresh.status == "succeeded" and refresh.params["trigger"] == "screening"
    # The county's landing dashboard is stored for the data as the rebuild left it, so the next
    # page view reads it instead of computing.
    spec = snapshot_spec(cast.staff, region, date(today.year, 1, 1), today, GROUP_BY_CHOICES)
    assert StatsSnapshot.objects.filter(key=snapshot_key(spec), version=data_version()).exists()


def test_waiting_refresh_is_not_queued_twice(cast, django_capture_on_commit_callbacks):
    from config.celery import app as celery_app
    from core.models import Job
    from dashboards.jobs import queue_refresh

    celery_app.conf.task_always_eager = False  # keep the first job waiting (no broker call made)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            queue_refresh(trigger="test")
            queue_refresh(trigger="test")
        for callback in callbacks[:2]:
            callback()
    finally:
        celery_app.conf.task_always_eager = True
    assert Job.objects.filter(kind="dashboards.refresh").count() == 1
