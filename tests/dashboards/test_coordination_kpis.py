"""visited_enterprises, recommended_enterprises, credited_enterprises, credit_amount and
avg_days_to_disburse against the hand-made fixture (helpers.add_coordination), by hand."""

from datetime import date
from decimal import Decimal

import pytest

from dashboards import snapshots
from enterprises.models import Region
from tests.dashboards.helpers import (
    AOJIANG,
    KUNYANG,
    add_coordination,
    build_world,
    make_approval,
    make_recommendation,
    make_visit,
)
from tests.factories import LUCHENG, PINGYANG, WENZHOU, make_loan

pytestmark = pytest.mark.django_db

START, END = date(2025, 1, 1), date(2025, 6, 30)


def stats(user, code, start=START, end=END, group_by=None):
    return snapshots.compute_stats(user, Region.objects.get(code=code), start, end, group_by)


@pytest.fixture
def world(cast):
    return add_coordination(cast, build_world(cast))


def test_county_totals_by_hand(cast, world):
    t = stats(cast.staff, PINGYANG)["totals"]
    # A (two visits, counted once) and C; B's visit was withdrawn, H's is after the end,
    # E is in 鹿城区.
    assert t["visited_enterprises"] == 2
    # A, B, C, D, H, I: A recommended three times counts once; K before the period; G not pushed
    assert t["recommended_enterprises"] == 6
    # A, B, C (A twice: once); D's approval is after the end; E outside the county
    assert t["credited_enterprises"] == 3
    assert t["credit_amount"] == Decimal("380")  # 120 + 30 + 80 + 150
    # A 01-25 → 02-10 = 16, B 02-01 → 03-01 = 28, D 06-01 → 06-30 = 29; C's loan is before R,
    # H's after the end, I has none: left out. 73 / 3 = 24.33…
    assert t["avg_days_to_disburse"] == Decimal("24.3")


def test_city_includes_every_county(cast, world):
    t = stats(cast.city_staff, WENZHOU)["totals"]
    assert t["visited_enterprises"] == 3
    assert t["recommended_enterprises"] == 7
    assert t["credited_enterprises"] == 4
    assert t["credit_amount"] == Decimal("880")
    assert t["avg_days_to_disburse"] == Decimal("25.8")  # (16 + 28 + 29 + 30) / 4 = 25.75
    lucheng = stats(cast.outsider_staff, LUCHENG)["totals"]
    assert lucheng["recommended_enterprises"] == 1
    assert lucheng["avg_days_to_disburse"] == Decimal("30.0")


def test_recommended_twice_counts_from_the_earliest_date(cast, world):
    e = world.ents
    # A's earliest recommendation moves into February: 02-01 → 02-10 = 9 days
    make_recommendation(e["A"], cast.bank, date(2025, 2, 1))
    t = stats(cast.staff, PINGYANG, start=date(2025, 2, 1))["totals"]
    # in 02-01..06-30: A (02-01, 02-05, 03-01: R = 02-01), B, C, D, H, I
    assert t["recommended_enterprises"] == 6
    assert t["avg_days_to_disburse"] == Decimal("22.0")  # (9 + 28 + 29) / 3


def test_no_loan_anywhere_is_null(cast):
    world = build_world(cast)
    make_recommendation(world.ents["I"], cast.bank, date(2025, 3, 1))  # I never borrows
    make_recommendation(world.ents["H"], cast.bank, date(2025, 3, 1))
    make_loan(world.ents["H"], cast.bank, "5", date(2025, 8, 1))  # after the end
    t = stats(cast.staff, PINGYANG)["totals"]
    assert t["recommended_enterprises"] == 2
    assert t["avg_days_to_disburse"] is None


def test_a_loan_on_the_recommendation_day_is_zero_days(cast):
    world = build_world(cast)
    make_recommendation(world.ents["A"], cast.bank, date(2025, 2, 10))
    assert stats(cast.staff, PINGYANG)["totals"]["avg_days_to_disburse"] == Decimal("0.0")


def test_empty_period_is_zero_and_null(cast, world):
    t = stats(cast.staff, PINGYANG, date(2023, 1, 1), date(2023, 12, 31))["totals"]
    assert t["visited_enterprises"] == 0
    assert t["recommended_enterprises"] == 0
    assert t["credited_enterprises"] == 0
    assert t["credit_amount"] == 0
    assert t["avg_days_to_disburse"] is None


def test_group_by_region(cast, world):
    rows = {r["region"]: r for r in stats(cast.staff, PINGYANG, group_by="region")["rows"]}
    kunyang, aojiang = rows[KUNYANG], rows[AOJIANG]
    assert kunyang["visited_enterprises"] == 2
    assert kunyang["recommended_enterprises"] == 5  # A, C, D, H, I
    assert kunyang["avg_days_to_disburse"] == Decimal("22.5")  # (16 + 29) / 2
    assert kunyang["credited_enterprises"] == 2
    assert kunyang["credit_amount"] == Decimal("300")
    assert aojiang["visited_enterprises"] == 0
    assert aojiang["recommended_enterprises"] == 1
    assert aojiang["avg_days_to_disburse"] == Decimal("28.0")
    assert aojiang["credit_amount"] == Decimal("80")


def test_group_by_bank_uses_each_banks_own_recommendations_and_loans(cast, world):
    rows = {r["key"]: r for r in stats(cast.staff, PINGYANG, group_by="bank")["rows"]}
    py, ra = rows["PY-HEAD"], rows["RA-BR"]
    # recommended to 温州银行: A, C, D, H; A's loan and D's are its own: (16 + 29) / 2
    assert py["recommended_enterprises"] == 4
    assert py["avg_days_to_disburse"] == Decimal("22.5")
    # recommended to 瑞安农商: A (02-05, no loan of its own), B (28 days), I
    assert ra["recommended_enterprises"] == 3
    assert ra["avg_days_to_disburse"] == Decimal("28.0")
    # approvals by the approving bank
    assert (py["credited_enterprises"], py["credit_amount"]) == (2, Decimal("300"))
    assert (ra["credited_enterprises"], ra["credit_amount"]) == (1, Decimal("80"))
    # visits by the bank of the 1+1 team: A's with 温州银行, C's with 瑞安农商
    assert py["visited_enterprises"] == 1
    assert ra["visited_enterprises"] == 1


def test_group_by_month(cast, world):
    rows = {r["key"]: r for r in stats(cast.staff, PINGYANG, group_by="month")["rows"]}
    assert [rows[m]["visited_enterprises"] for m in rows] == [1, 0, 1, 0, 1, 0]
    # by the month of each enterprise's R: A Jan, B Feb, I Mar, H Apr, C May, D Jun
    assert [rows[m]["recommended_enterprises"] for m in rows] == [1, 1, 1, 1, 1, 1]
    assert rows["2025-01"]["avg_days_to_disburse"] == Decimal("16.0")
    assert rows["2025-03"]["avg_days_to_disburse"] is None
    assert rows["2025-02"]["credited_enterprises"] == 2  # A 02-01, B 02-20
    assert rows["2025-02"]["credit_amount"] == Decimal("200")
    assert rows["2025-05"]["credit_amount"] == Decimal("180")  # A 30, C 150


def test_group_by_industry_and_entity_type(cast, world):
    rows = {r["key"]: r for r in stats(cast.staff, PINGYANG, group_by="industry")["rows"]}
    assert rows["C"]["visited_enterprises"] == 2  # A C1311, C C3411
    assert rows["C"]["credit_amount"] == Decimal("300")
    types = {r["key"]: r for r in stats(cast.staff, PINGYANG, group_by="entity_type")["rows"]}
    assert types["individual"]["recommended_enterprises"] == 1  # D
    assert types["individual"]["avg_days_to_disburse"] == Decimal("29.0")


def test_bank_officer_sees_only_its_branch(cast, world):
    t = stats(cast.officer, PINGYANG)["totals"]
    # visits of the enterprises its branch serves (A and C, loans at PY; B borrows elsewhere)
    # that its branch joined or no bank did: A; C's visit was with 瑞安农商, that bank's business
    assert t["visited_enterprises"] == 1
    # recommendations to its branch: A, C, D, H; its own loans: A 16, D 29
    assert t["recommended_enterprises"] == 4
    assert t["avg_days_to_disburse"] == Decimal("22.5")
    assert t["credited_enterprises"] == 2
    assert t["credit_amount"] == Decimal("300")


def test_other_county_staff_never_count_pingyang(cast, world):
    t = stats(cast.outsider_staff, LUCHENG)["totals"]
    assert (t["visited_enterprises"], t["credited_enterprises"]) == (1, 1)
    assert t["credit_amount"] == Decimal("500")


def test_a_new_visit_or_approval_is_seen_at_once(cast, world):
    stats(cast.staff, PINGYANG)  # stored
    make_visit(world.ents["G"], date(2025, 6, 1))
    make_approval(world.ents["G"], cast.bank, date(2025, 6, 2), "12")
    t = stats(cast.staff, PINGYANG)["totals"]
    assert t["visited_enterprises"] == 3
    assert t["credit_amount"] == Decimal("392")
