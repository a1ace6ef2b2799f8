"""One timeline on the enterprise page: every source, newest first, scoped for every role, and
a query count that does not grow with the enterprise's history."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from banks.models import BankFeedback, HandOff
from enterprises.models import ImportBatch
from enterprises.timeline import SOURCES, Event, timeline
from loans.models import CreditApproval
from screening.models import ListChange, ListMembership, ScreeningRun
from tests.factories import (
    LUCHENG_STREET,
    PINGYANG,
    make_assignment,
    make_census,
    make_enterprise,
    make_loan,
    make_negative,
    make_tax,
    make_user,
)
from visits.models import Application, CoordinationItem, Recommendation, Visit

pytestmark = pytest.mark.django_db

OTHER = "RA-OTHER"  # a marker every row of the other bank carries in its text
EVERY_SOURCE = {
    "registered",
    "stages",
    "imports",
    "negative",
    "list_changes",
    "first_screening",
    "assignments",
    "handoffs",
    "feedback",
    "visits",
    "items",
    "applications",
    "recommendations",
    "approvals",
    "loans",
}


PERIOD = {
    "as_of": date(2025, 6, 30),
    "period_start": date(2025, 1, 1),
    "period_end": date(2025, 6, 30),
}


def at(day, hour=10):
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def batch(kind, name, applied):
    return ImportBatch.objects.create(
        kind=kind, file_name=name, file_sha256=name, status="applied", applied_at=applied
    )


def history(cast, firm, worker):
    """A year of the firm's life with the officer's bank (lead) and the other bank (backup)."""
    own, other = cast.bank, cast.other_bank
    census_batch = batch("census", "census-2024.xlsx", at(date(2025, 1, 5)))
    make_census(firm, census_year=2024, batch=census_batch)
    make_tax(firm, tax_year=2024, batch=batch("tax", "tax-2024.xlsx", at(date(2025, 1, 6))))
    make_negative(firm, listed_on=date(2025, 1, 10), removed_on=date(2025, 2, 1), source="市监局")
    loans_batch = batch("loans", "loans-own.xlsx", at(date(2025, 3, 2)))
    loan = make_loan(
        firm,
        own,
        amount="120",
        disbursed_on=date(2025, 3, 1),
        loan_no=f"OWN-1-{firm.pk}",
        batch=loans_batch,
    )
    make_loan(
        firm,
        own,
        amount="130",
        disbursed_on=date(2026, 2, 27),
        matures_on=date(2027, 2, 27),
        loan_no=f"OWN-2-{firm.pk}",
        is_renewal=True,
        renews=loan,
        renews_loan_no=f"OWN-1-{firm.pk}",
    )
    make_loan(
        firm,
        other,
        amount="777.77",
        disbursed_on=date(2025, 4, 1),
        loan_no=f"{OTHER}-LOAN-{firm.pk}",
        batch=batch("loans", f"{OTHER}-loans.xlsx", at(date(2025, 4, 2))),
    )
    CreditApproval.objects.create(
        bank=own,
        approval_no=f"A-OWN-{firm.pk}",
        enterprise=firm,
        approved_on=date(2025, 2, 20),
        amount=150,
    )
    CreditApproval.objects.create(
        bank=other,
        approval_no=f"{OTHER}-A-{firm.pk}",
        enterprise=firm,
        approved_on=date(2025, 3, 20),
        amount=Decimal("666.66"),
    )
    # List screening: the first run puts it on the active list, the second on no-loan → off it.
    first = ScreeningRun.objects.create(
        region_id=PINGYANG, status="succeeded", finished_at=at(date(2025, 1, 20)), **PERIOD
    )
    ListMembership.objects.create(
        run=first, list_type="active", enterprise=firm, reasons=[{"code": "census_active"}]
    )
    second = ScreeningRun.objects.create(
        region_id=PINGYANG,
        status="succeeded",
        is_current=not ScreeningRun.objects.filter(region_id=PINGYANG, is_current=True).exists(),
        previous=first,
        finished_at=at(date(2025, 3, 5)),
        **PERIOD,
    )
    ListChange.objects.create(
        run=second,
        list_type="no_loan",
        change="left",
        enterprise=firm,
        reasons=[{"code": "has_loan"}],
    )
    ListChange.objects.create(
        run=second,
        list_type="first_loan",
        change="entered",
        enterprise=firm,
        reasons=[{"code": "first_loan_in_period", "on": "2025-03-01"}],
    )
    # Bank matching: the lead (officer's bank) declines, the backup (other bank) takes over.
    lead = make_assignment(firm, own, "lead")
    backup = make_assignment(firm, other, "backup")
    lead.township_worker = worker
    lead.save()
    BankFeedback.objects.create(
        assignment=lead, status="declined", reason="抵押物不足", feedback_on=date(2025, 4, 9)
    )
    BankFeedback.objects.create(
        assignment=backup,
        status="contacted",
        reason=f"{OTHER} 已联系",
        feedback_on=date(2025, 4, 20),
    )
    HandOff.objects.create(
        enterprise=firm,
        from_assignment=lead,
        to_assignment=backup,
        cause="declined",
        created_at=at(date(2025, 4, 10)),
    )
    # Visits: with the officer's bank and with the other bank.
    visit = Visit.objects.create(
        enterprise=firm,
        visited_on=date(2025, 5, 6),
        township_worker=worker,
        bank=own,
        has_need=True,
        need_amount=200,
        need_purpose="equipment",
        intent="strong",
        problems=["collateral"],
        note="需要购置设备",
    )
    Visit.objects.create(
        enterprise=firm,
        visited_on=date(2025, 6, 7),
        bank=other,
        has_need=False,
        note=f"{OTHER} 走访记录",
    )
    CoordinationItem.objects.create(
        enterprise=firm,
        visit=visit,
        problem="collateral",
        owner_bank=other,
        owner_department="县金融办",
        status="resolved",
        resolved_at=at(date(2025, 6, 1)),
        resolution="引入政府性融资担保",
    )
    Application.objects.create(
        enterprise=firm,
        visit=visit,
        need_amount=200,
        status="approved",
        checked_at=at(date(2025, 5, 10)),
        approved_at=at(date(2025, 5, 11)),
        checked_by=cast.staff,
        approved_by=cast.city_staff,
    )
    Recommendation.objects.create(
        enterprise=firm, bank=own, recommended_on=date(2025, 5, 12), batch_no="PY-2025-05"
    )
    Recommendation.objects.create(
        enterprise=firm, bank=other, recommended_on=date(2025, 5, 13), batch_no=f"{OTHER}-B"
    )
    # Records made by hand carry the moment they were made: set them as if made then.
    firm.bank_assignments.update(assigned_at=at(date(2025, 3, 10)))
    BankFeedback.objects.filter(assignment__enterprise=firm).update(created_at=at(date(2025, 4, 9)))
    CoordinationItem.objects.filter(enterprise=firm).update(created_at=at(date(2025, 5, 6), 12))
    Application.objects.filter(enterprise=firm).update(created_at=at(date(2025, 5, 7)))
    from loans.services import recompute_stages

    recompute_stages(enterprise_ids=[firm.pk])  # 无贷户 → 首贷户 (own loan) → 伙伴客户


@pytest.fixture
def worker(cast):
    return make_user("li_si", Role.TOWNSHIP_WORKER, region="330326100", first_name="李四")


@pytest.fixture
def firm(cast, worker):
    firm = make_enterprise(name="平阳时间线企业", legal_rep="张三丰", phone="13812345678")
    history(cast, firm, worker)
    return firm


def events_of(user, firm, limit=100):
    return timeline(firm, user, limit)[0]


def text_of(events):
    return "\n".join(f"{e.kind} {e.title} {e.detail}" for e in events)


def timeline_html(client, user, firm, **params):
    client.force_login(user)
    response = client.get(reverse("enterprises:detail", args=[firm.pk]), params)
    assert response.status_code == 200
    body = response.content.decode()
    return body[body.index('<section id="timeline"') :]


def test_every_source_appears_on_the_page_for_county_staff(client, cast, firm):
    events = events_of(cast.staff, firm)
    assert {e.source for e in events} == EVERY_SOURCE
    assert set(SOURCES) == EVERY_SOURCE  # a new source needs a row in history() above
    html = timeline_html(client, cast.staff, firm)
    for source in EVERY_SOURCE:
        assert f'data-source="{source}"' in html
    for label in (
        "走访",
        "问题协调",
        "银行反馈",
        "移交",
        "授信",
        "续贷",
        "筛分",
        "数据导入",
        "阶段",
    ):
        assert label in html


def test_events_are_newest_first(cast, firm):
    events = events_of(cast.staff, firm)
    moments = [e.moment for e in events]
    assert moments == sorted(moments, reverse=True)
    # The renewal of 2026 is the newest; the day the firm was established the oldest.
    assert events[0].source == "loans" and f"OWN-1-{firm.pk}" in events[0].detail
    assert events[-1].source == "registered"


def test_a_bank_officer_never_sees_another_banks_lending_visits_or_feedback(client, cast, firm):
    events = events_of(cast.officer, firm)
    text = text_of(events)
    for leak in (OTHER, "777.77", "666.66", cast.other_bank.name, "2025-04-01"):
        assert leak not in text
    html = timeline_html(client, cast.officer, firm)
    for leak in (OTHER, "777.77", "666.66", cast.other_bank.name):
        assert leak not in html
    # Their own branch's rows are all there.
    assert "120.00" in text and "130.00" in text and "150.00" in text
    assert "抵押物不足" in text  # their own feedback
    assert "需要购置设备" in text  # the visit with their bank
    # The item the other bank owns shows, without that bank.
    assert "引入政府性融资担保" in text
    # The hand-off from their bank to the other: the fact, not the other bank's name.
    handoff = next(e for e in events if e.source == "handoffs")
    assert cast.bank.name in handoff.detail
    # A first-loan date from the lists shows only when it is their own loan's date.
    assert "2025-03-01" in text


def test_a_bank_officer_does_not_read_another_banks_first_loan_date_in_list_changes(cast):
    firm = make_enterprise()
    make_loan(firm, cast.bank, disbursed_on=date(2025, 5, 1), loan_no="OWN-LATE")
    make_loan(firm, cast.other_bank, disbursed_on=date(2025, 2, 3), loan_no="OTHER-EARLY")
    run = ScreeningRun.objects.create(region_id=PINGYANG, status="succeeded", **PERIOD)
    second = ScreeningRun.objects.create(
        region_id=PINGYANG, status="succeeded", previous=run, is_current=True, **PERIOD
    )
    ListChange.objects.create(
        run=second,
        list_type="first_loan",
        change="entered",
        enterprise=firm,
        reasons=[{"code": "first_loan_in_period", "on": "2025-02-03"}],
    )
    assert "2025-02-03" in text_of(events_of(cast.staff, firm))
    officer_text = text_of(events_of(cast.officer, firm))
    assert "2025-02-03" not in officer_text
    assert "首贷户" in officer_text


def test_an_enterprise_outside_the_users_scope_has_no_timeline(client, cast, firm):
    outside = make_user("other_town", Role.TOWNSHIP_WORKER, region="330326101")
    stranger = make_enterprise()  # assigned to no bank, no loans: outside the officer's scope
    for user, enterprise in (
        (cast.outsider_staff, firm),
        (outside, firm),
        (cast.officer, stranger),
    ):
        client.force_login(user)
        for name in ("enterprises:timeline", "enterprises:detail"):
            assert client.get(reverse(name, args=[enterprise.pk])).status_code == 404


def test_the_regulator_reads_every_bank_but_no_personal_data(client, cast, firm, worker):
    events = events_of(cast.regulator, firm)
    text = text_of(events)
    assert cast.other_bank.name in text and "777.77" in text
    assert "李四" not in text and "李*" in text  # the 1+1 township worker, masked
    html = timeline_html(client, cast.regulator, firm)
    for personal in ("李四", "张三丰", "13812345678", cast.staff.display_name):
        assert personal not in html
    # The staff who read personal data see the names.
    assert "李四" in text_of(events_of(cast.staff, firm))


def test_a_township_worker_of_the_township_sees_the_visits(cast, firm):
    text = text_of(events_of(cast.township, firm))
    assert "需要购置设备" in text and f"{OTHER} 走访记录" in text


def test_partner_tokens_without_personal_data_read_masked_names(cast, firm):
    text = text_of(events_of(cast.partner, firm))
    assert "李*" in text and "李四" not in text


def test_the_import_events_link_the_batch_only_for_importers(cast, firm):
    staff = [e for e in events_of(cast.staff, firm) if e.source == "imports"]
    assert {e.title for e in staff} == {
        "经济普查活跃经营主体名单",
        "纳税信用与纳税数据",
        "贷款发放明细",
    }
    assert all(e.url.startswith("/enterprises/imports/") for e in staff)
    regulator = [e for e in events_of(cast.regulator, firm) if e.source == "imports"]
    assert regulator and not any(e.url for e in regulator)


def test_dates_are_shown_in_shanghai_time(client, cast):
    firm = make_enterprise()
    batch("census", "late.xlsx", datetime(2025, 6, 30, 20, 30, tzinfo=UTC))
    make_census(firm, batch=ImportBatch.objects.get(file_name="late.xlsx"))
    html = timeline_html(client, cast.staff, firm)
    assert "2025-07-01 04:30" in html and "2025-06-30 20:30" not in html


def test_the_page_shows_the_latest_events_and_more_on_request(client, cast, firm):
    html = timeline_html(client, cast.staff, firm, limit=5)
    assert html.count('data-source="') == 5
    more = re.search(r'hx-get="([^"]+limit=(\d+))"', html)
    assert more and more.group(2) == "105"
    client.force_login(cast.staff)
    partial = client.get(more.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="timeline"')
    assert body.count('data-source="') == len(events_of(cast.staff, firm))
    assert "hx-get" not in body  # everything is shown: no more button


def test_a_source_is_asked_for_one_row_more_than_shown(cast, firm):
    events, more = timeline(firm, cast.staff, limit=3)
    assert len(events) == 3 and more
    events, more = timeline(firm, cast.staff, limit=1000)
    assert not more


def grow(firm, cast, worker, n):
    """n more rows of each repeated kind: visits, feedback, loans, approvals, items, changes."""
    lead = firm.bank_assignments.get(role="lead")
    run = ScreeningRun.objects.filter(enterprise_run_filter(firm)).order_by("-pk").first()
    for i in range(n):
        day = date(2024, 1, 1) + timedelta(days=i)
        Visit.objects.create(
            enterprise=firm, visited_on=day, township_worker=worker, bank=cast.bank, has_need=False
        )
        BankFeedback.objects.create(assignment=lead, status="contacted", feedback_on=day)
        make_loan(firm, cast.bank, disbursed_on=day, matures_on=day + timedelta(days=365))
        CreditApproval.objects.create(
            bank=cast.bank,
            approval_no=f"G{i}-{firm.pk}",
            enterprise=firm,
            approved_on=day,
            amount=10,
        )
        CoordinationItem.objects.create(enterprise=firm, problem="rate", owner=worker)
        ListChange.objects.create(
            run=run, list_type="key_visit", change="entered", enterprise=firm, reasons=[]
        )


def enterprise_run_filter(firm):
    from django.db.models import Q

    return Q(region_id=firm.region_id[:6], previous__isnull=False)


@pytest.mark.parametrize("who", ["staff", "officer", "regulator", "township"])
def test_the_query_count_does_not_grow_with_the_history(client, cast, worker, who):
    small = make_enterprise()
    history(cast, small, worker)
    large = make_enterprise()
    history(cast, large, worker)
    grow(large, cast, worker, 30)
    user = getattr(cast, who)
    client.force_login(user)

    def count(enterprise):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("enterprises:timeline", args=[enterprise.pk]))
        assert response.status_code == 200
        return len(queries), response.content.decode().count('data-source="')

    small_queries, small_events = count(small)
    large_queries, large_events = count(large)
    assert large_events >= small_events + 30
    assert large_queries == small_queries


def test_each_source_runs_at_most_one_query(cast, firm):
    assert cast.staff.scope.region_prefix  # the scope is read once per request, before
    for name, source in SOURCES.items():
        with CaptureQueriesContext(connection) as queries:
            source(firm, cast.staff, 100)
        assert len(queries) <= 1, (name, [q["sql"] for q in queries])


def test_a_registered_source_joins_the_timeline(cast, firm, monkeypatch):
    monkeypatch.setitem(
        SOURCES,
        "stage",
        lambda enterprise, user, limit: [Event(timezone.now(), "阶段", "进入授信阶段")],
    )
    events = events_of(cast.staff, firm)
    assert events[0].source == "stage" and events[0].title == "进入授信阶段"


def test_an_enterprise_with_nothing_but_its_register_entry(client, cast):
    firm = make_enterprise(region=LUCHENG_STREET)
    client.force_login(cast.city_staff)
    html = timeline_html(client, cast.city_staff, firm)
    assert html.count('data-source="') == 1 and "成立" in html


def test_the_stage_history_shows_a_bank_officer_only_the_moves_its_loans_made(client, cast, firm):
    from loans.models import StageChange

    changes = StageChange.objects.filter(enterprise=firm)
    theirs = changes.exclude(loan__bank=cast.bank)
    assert changes.filter(loan__bank=cast.bank).exists() and theirs.exists()
    staff_days = {e.when for e in events_of(cast.staff, firm) if e.source == "stages"}
    officer_days = {e.when for e in events_of(cast.officer, firm) if e.source == "stages"}
    assert staff_days == set(changes.values_list("changed_on", flat=True))
    assert officer_days == set(
        changes.filter(loan__bank=cast.bank).values_list("changed_on", flat=True)
    )
    assert not officer_days & set(theirs.values_list("changed_on", flat=True))
    # the enterprise page's stage panel follows the same rule, and names no day for the officer
    client.force_login(cast.officer)
    page = client.get(f"/enterprises/{firm.pk}/").content.decode()
    for day in theirs.values_list("changed_on", flat=True):
        assert day.isoformat() not in page.split('id="stage-history"')[-1].split("</ul>")[0]
