"""The funnel and the bank ranking against the hand-made fixture, computed by hand."""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from banks.models import BankFeedback, HandOff
from dashboards import services
from dashboards.funnel import compute_funnel
from dashboards.snapshots import compute_ranking
from enterprises.models import Region
from tests.dashboards.helpers import (
    add_coordination,
    build_world,
    external_assets,
    given_at,
    lists_of,
)
from tests.factories import LUCHENG, PINGYANG, make_assignment

pytestmark = pytest.mark.django_db

START, END = date(2025, 1, 1), date(2025, 6, 30)
PERIOD = {"start": "2025-01-01", "end": "2025-06-30"}


@pytest.fixture
def world(cast):
    return add_coordination(cast, build_world(cast))


def feedback(assignment, status, day, reason="", decline_reason=""):
    row = BankFeedback.objects.create(
        assignment=assignment,
        status=status,
        reason=reason,
        decline_reason=decline_reason,
        feedback_on=day,
    )
    given_at(row, day)
    return row


@pytest.fixture
def banks_world(cast, world):
    """A lead PY due 02-10, answered 02-05 (on time). B lead RA due 03-01, declined 03-05
    (late), handed to its backup PY, due 03-15, credited 03-10 (on time). C lead PY due
    05-10, never answered. E (鹿城区) lead PY due 02-01, answered on time: outside 平阳."""
    e, py, ra = world.ents, cast.bank, cast.other_bank
    a_lead = make_assignment(e["A"], py)
    a_lead.due_on = date(2025, 2, 10)
    a_lead.save()
    feedback(a_lead, "contacted", date(2025, 2, 5))
    b_lead = make_assignment(e["B"], ra)
    b_lead.due_on = date(2025, 3, 1)
    b_lead.save()
    feedback(b_lead, "declined", date(2025, 3, 5), "经营不稳定", "poor_operation")
    b_backup = make_assignment(e["B"], py, role="backup")
    b_backup.due_on = date(2025, 3, 15)
    b_backup.save()
    feedback(b_backup, "credited", date(2025, 3, 10))
    hand_off = HandOff.objects.create(
        enterprise=e["B"],
        from_assignment=b_lead,
        to_assignment=b_backup,
        cause="declined",
        created_at=a_lead.assigned_at,
    )
    given_at(hand_off, date(2025, 3, 6))
    c_lead = make_assignment(e["C"], py)
    c_lead.due_on = date(2025, 5, 10)
    c_lead.save()
    e_lead = make_assignment(e["E"], py)
    e_lead.due_on = date(2025, 2, 1)
    e_lead.save()
    feedback(e_lead, "contacted", date(2025, 1, 30))
    return world


def test_funnel_stages_by_hand(cast, world, monkeypatch):
    e = world.ents
    monkeypatch.setattr(
        services, "current_list_sql", lists_of([e[k] for k in "ABCDGHIJK"], [e["H"], e["I"]])
    )
    f = compute_funnel(cast.staff, Region.objects.get(code=PINGYANG), START, END)
    counts = {s["key"]: s["count"] for s in f["stages"]}
    assert counts == {
        "active_entities": 9,
        "visited_enterprises": 2,  # A, C
        "need_found_enterprises": 1,  # A (B's visit with a need was withdrawn)
        "recommended_enterprises": 6,
        "credited_enterprises": 3,
        "disbursed_enterprises": 4,  # A, B, C, D disbursed in the period
    }
    rates = {s["key"]: s["rate_from_previous"] for s in f["stages"]}
    assert rates["active_entities"] is None
    assert rates["visited_enterprises"] == Decimal("0.2222")  # 2 / 9
    assert rates["need_found_enterprises"] == Decimal("0.5")
    # first loans A and D; no-loan list H, I: 2 / (2 + 2)
    assert f["first_loan_conversion"] == Decimal("0.5")


def test_funnel_without_a_screening_list_has_no_active_stage(cast, world, monkeypatch):
    monkeypatch.setattr(services, "current_list_sql", lambda region, list_type: None)
    f = compute_funnel(cast.staff, Region.objects.get(code=PINGYANG), START, END)
    assert f["stages"][0]["count"] is None
    assert f["stages"][1]["rate_from_previous"] is None
    assert f["first_loan_conversion"] is None


def ranking(user, code=PINGYANG):
    result = compute_ranking(user, Region.objects.get(code=code), START, END)
    return {row["code"]: row for row in result["institutions"]}, result


def test_bank_ranking_by_hand(cast, banks_world):
    rows, result = ranking(cast.staff)
    py, ra = rows["PY-HEAD"], rows["RA-BR"]
    # 温州银行 (its branch PY-BR): due A, B-backup, C; on time A, B-backup; E is in 鹿城区
    assert (py["due"], py["on_time"], py["on_time_rate"]) == (3, 2, Decimal("0.6667"))
    assert (py["answered"], py["declined"], py["decline_rate"]) == (2, 0, Decimal("0"))
    assert (py["hand_offs_received"], py["hand_offs_given"]) == (1, 0)
    # recommended to it: A, C, D, H; credited by it after R: A, C; lent by it: A, D
    assert (py["recommended"], py["credited"], py["disbursed"]) == (4, 2, 2)
    assert py["credit_rate"] == Decimal("0.5")
    assert py["avg_days_to_loan"] == Decimal("22.5")
    assert [b["code"] for b in py["branches"]] == ["PY-BR"]
    assert py["branches"][0]["recommended"] == 4
    # 瑞安农商: B due 03-01, declined late
    assert (ra["due"], ra["on_time"], ra["on_time_rate"]) == (1, 0, Decimal("0"))
    assert ra["decline_rate"] == Decimal("1")
    assert ra["decline_reasons"] == [{"reason": "poor_operation", "count": 1}]
    assert (ra["hand_offs_received"], ra["hand_offs_given"]) == (0, 1)
    assert (ra["recommended"], ra["credited"], ra["disbursed"]) == (3, 1, 1)  # A, B, I
    assert ra["avg_days_to_loan"] == Decimal("28.0")
    # ranked by feedback on time
    assert [r["code"] for r in result["institutions"]] == ["PY-HEAD", "RA-BR"]
    assert [r["rank"] for r in result["institutions"]] == [1, 2]


def test_ranking_institution_counts_an_enterprise_once_across_its_branches(cast, banks_world):
    from tests.dashboards.helpers import make_recommendation
    from tests.factories import make_bank

    second = make_bank(code="PY-BR2", name="温州银行鳌江支行", parent=cast.bank.parent)
    make_recommendation(banks_world.ents["C"], second, date(2025, 5, 12))
    rows, _result = ranking(cast.staff)
    py = rows["PY-HEAD"]
    assert py["recommended"] == 4  # C recommended to two of its branches: once
    assert {b["code"]: b["recommended"] for b in py["branches"]} == {"PY-BR": 4, "PY-BR2": 1}


def test_ranking_of_a_period_without_activity_is_empty(cast, banks_world):
    result = compute_ranking(
        cast.staff, Region.objects.get(code=PINGYANG), date(2023, 1, 1), date(2023, 12, 31)
    )
    for inst in result["institutions"]:
        assert inst["due"] == 0 and inst["recommended"] == 0
        assert inst["on_time_rate"] is None and inst["avg_days_to_loan"] is None


def test_bank_officer_ranking_shows_only_its_branch(cast, banks_world):
    rows, _result = ranking(cast.officer)
    assert set(rows) == {"PY-HEAD"}
    assert rows["PY-HEAD"]["due"] == 3  # region-wide for the officer: 平阳 only by the request
    other, _ = ranking(cast.outsider_staff, LUCHENG)
    assert other["PY-HEAD"]["due"] == 1 and other["PY-HEAD"]["on_time"] == 1  # E
    assert other["PY-HEAD"]["recommended"] == 1


def test_ranking_follows_new_feedback_at_once(cast, banks_world):
    from banks.models import BankAssignment

    ranking(cast.staff)
    c_lead = BankAssignment.objects.get(enterprise=banks_world.ents["C"], role="lead")
    feedback(c_lead, "declined", date(2025, 5, 9), "无抵押", "insufficient_collateral")
    rows, _ = ranking(cast.staff)
    assert rows["PY-HEAD"]["on_time"] == 3
    assert rows["PY-HEAD"]["decline_reasons"] == [{"reason": "insufficient_collateral", "count": 1}]


def test_ranking_counts_feedback_on_its_own_date_not_the_day_it_was_entered(cast, banks_world):
    """Imported feedback is entered after the fact: 反馈日期 counts, not the import day."""
    from banks.models import BankAssignment

    c_lead = BankAssignment.objects.get(enterprise=banks_world.ents["C"], role="lead")
    row = feedback(c_lead, "declined", date(2025, 5, 9), "", "poor_credit")
    given_at(row, date(2025, 8, 1))  # entered after the period
    rows, _ = ranking(cast.staff)
    assert rows["PY-HEAD"]["on_time"] == 3
    assert rows["PY-HEAD"]["declined"] == 1
    assert rows["PY-HEAD"]["decline_reasons"] == [{"reason": "poor_credit", "count": 1}]


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_funnel_and_ranking_api(cast, banks_world):
    data = client_for(cast.staff).get("/api/v1/stats/funnel/", PERIOD).json()
    assert [s["key"] for s in data["stages"]][1:3] == [
        "visited_enterprises",
        "need_found_enterprises",
    ]
    assert data["stages"][3]["count"] == 6
    data = client_for(cast.staff).get("/api/v1/stats/banks/", PERIOD).json()
    first = data["institutions"][0]
    assert first["code"] == "PY-HEAD" and first["on_time_rate"] == 0.6667
    assert first["avg_days_to_loan"] == 22.5
    ra = next(row for row in data["institutions"] if row["code"] == "RA-BR")
    assert ra["decline_reasons"] == [
        {"reason": "poor_operation", "label": "经营状况不佳", "count": 1}
    ]
    assert (
        client_for(cast.outsider_staff)
        .get("/api/v1/stats/banks/", {**PERIOD, "region": PINGYANG})
        .status_code
        == 404
    )
    assert client_for(cast.staff).get("/api/v1/stats/funnel/", {"start": "x"}).status_code == 400


def test_stats_api_serves_every_kpi_key_of_the_spec(cast, world):
    data = client_for(cast.staff).get("/api/v1/stats/", PERIOD).json()
    for key in services.KPI_KEYS:
        assert key in data
    assert data["credit_amount"] == "380.000000"
    assert data["avg_days_to_disburse"] == 24.3
    rows = client_for(cast.staff).get("/api/v1/stats/", {**PERIOD, "group_by": "bank"}).json()
    assert {r["key"]: r["recommended_enterprises"] for r in rows["rows"]} == {
        "PY-HEAD": 4,
        "RA-BR": 3,
    }


def page_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_funnel_and_ranking_pages_show_the_figures(cast, banks_world):
    html = page_client(cast.regulator).get("/dashboards/funnel/", PERIOD).content.decode()
    assert 'id="funnel-chart"' in html and 'id="table-funnel"' in html
    assert "已推荐至银行" in html or "Recommended to a bank" in html
    assert 'data-value="6"' in html  # recommended
    html = page_client(cast.regulator).get("/dashboards/banks/", PERIOD).content.decode()
    assert "温州银行" in html and "瑞安农商银行" in html
    assert "66.67%" in html  # 温州银行 on time
    assert "经营状况不佳 (1)" in html  # the reason code's label, not the free text
    assert "echarts.min.js" in html and external_assets(html) == []


def test_pages_and_exports_are_scoped(cast, banks_world):
    for url in ("/dashboards/funnel/", "/dashboards/banks/"):
        assert page_client(cast.officer).get(url, PERIOD).status_code == 404
        other = page_client(cast.outsider_staff).get(url, {**PERIOD, "region": PINGYANG})
        assert other.status_code == 404
        assert page_client(cast.staff).get(url, {"start": "nope"}).status_code == 400
    for url in ("/dashboards/export/funnel.xlsx", "/dashboards/export/banks.xlsx"):
        other = page_client(cast.outsider_staff).get(url, {**PERIOD, "region": PINGYANG})
        assert other.status_code == 404


def test_exports_carry_the_figures_shown(cast, banks_world):
    import io

    from openpyxl import load_workbook

    response = page_client(cast.staff).get("/dashboards/export/banks.xlsx", PERIOD)
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    body = {r[1]: r for r in rows[1:]}
    assert body["温州银行"][0] == 1  # rank
    assert body["温州银行"][3] == pytest.approx(0.6667)  # on time
    assert body["瑞安农商银行"][-1] == "经营状况不佳 (1)"
    assert "温州银行平阳支行" in body  # its branch, below it
    response = page_client(cast.staff).get("/dashboards/export/funnel.xlsx", PERIOD)
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert [r[1] for r in rows[2:7]] == [2, 1, 6, 3, 4]


@pytest.mark.parametrize(
    "url",
    [
        "/dashboards/funnel/",
        "/dashboards/banks/",
        "/dashboards/export/funnel.xlsx",
        "/dashboards/export/banks.xlsx",
        "/api/v1/stats/funnel/",
        "/api/v1/stats/banks/",
    ],
)
def test_dates_out_of_range_are_a_400_on_the_new_doors(cast, url):
    client = page_client(cast.staff)
    assert client.get(url, {"start": "0001-01-01", "end": "2025-01-01"}).status_code == 400
