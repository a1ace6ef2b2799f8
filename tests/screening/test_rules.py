"""Each inclusion and exclusion rule, on both build paths."""

from datetime import date

import pytest

from screening.models import ListMembership, RuleSet
from tests.factories import (
    LUCHENG_STREET,
    make_census,
    make_credit,
    make_enterprise,
    make_loan,
    make_negative,
    make_tax,
)

from .helpers import TODAY, codes, exclusion, members, rebuild

pytestmark = pytest.mark.django_db


def active_firm(**fields):
    firm = make_enterprise(**fields)
    make_census(firm, census_year=2023)
    return firm


def test_census_only_evidence_makes_a_firm_active(engine):
    firm = active_firm()
    run = rebuild(engine)
    assert firm.pk in members(run, "active")
    reasons = ListMembership.objects.get(run=run, list_type="active", enterprise=firm).reasons
    assert codes(reasons) == ["in_operation", "census_active"]


def test_tax_only_evidence_makes_a_firm_active(engine):
    paid, sales = make_enterprise(), make_enterprise()
    make_tax(paid, tax_year=2024, tax_paid="1.5")
    make_tax(sales, tax_year=2023, tax_paid="0", taxable_sales="10")
    make_tax(sales, tax_year=2024, tax_paid="0")
    run = rebuild(engine)
    assert {paid.pk, sales.pk} <= members(run, "active")


def test_tax_older_than_the_two_latest_years_is_no_evidence(engine):
    old = make_enterprise()
    make_tax(old, tax_year=2022, tax_paid="5")
    recent = make_enterprise()
    make_tax(recent, tax_year=2024, tax_paid="1")
    make_tax(recent, tax_year=2023, tax_paid="1")
    run = rebuild(engine)
    assert old.pk not in members(run, "active")
    assert codes(exclusion(run, old).reasons) == ["no_census", "no_tax"]


def test_census_of_an_older_year_or_inactive_is_no_evidence(engine):
    make_census(make_enterprise(), census_year=2023)  # makes 2023 the latest census year
    older, inactive = make_enterprise(), make_enterprise()
    make_census(older, census_year=2018)
    make_census(inactive, census_year=2023, is_active=False)
    run = rebuild(engine)
    assert not {older.pk, inactive.pk} & members(run, "active")


def test_foreign_trade_rebate_counts_as_tax_strength(engine):
    exporter = make_enterprise()
    make_tax(exporter, tax_year=2024, tax_paid="-2", export_rebate="3")
    run = rebuild(engine)
    assert exporter.pk in members(run, "active")
    reasons = ListMembership.objects.get(run=run, list_type="active", enterprise=exporter).reasons
    assert "export_rebate" in codes(reasons)


def test_a_firm_not_in_operation_is_excluded(engine):
    firm = active_firm(status="revoked")
    run = rebuild(engine)
    assert firm.pk not in members(run, "active")
    ex = exclusion(run, firm)
    assert ex.reasons == [{"code": "not_in_operation", "status": "revoked"}]
    assert not ex.repairable


@pytest.mark.parametrize(
    ("listed_on", "removed_on", "excluded"),
    [
        (TODAY, None, True),  # listed today: in force
        (date(2025, 7, 1), None, False),  # listed tomorrow: not yet
        (date(2025, 3, 2), TODAY, False),  # removed today: no longer excludes
        (date(2025, 3, 2), date(2025, 7, 1), True),  # removed tomorrow: still in force
    ],
)
def test_negative_list_boundary_dates(engine, listed_on, removed_on, excluded):
    firm = active_firm()
    make_negative(firm, listed_on=listed_on, removed_on=removed_on)
    run = rebuild(engine)
    assert (firm.pk not in members(run, "active")) is excluded


def test_every_reason_is_kept_with_its_date(engine):
    firm = make_enterprise()
    make_negative(firm, listed_on=date(2025, 3, 2))
    run = rebuild(engine)
    ex = exclusion(run, firm)
    assert ex.reasons == [
        {"code": "neg_abnormal_operation", "on": "2025-03-02"},
        {"code": "no_census"},
        {"code": "no_tax"},
    ]
    assert ex.obstacles == 2 and not ex.repairable


def test_one_fixable_reason_away_is_repairable(engine):
    abnormal = active_firm()
    make_negative(abnormal, listed_on=date(2025, 3, 2))
    zombie = active_firm()
    make_negative(zombie, list_type="zombie", listed_on=date(2025, 3, 2))
    no_evidence = make_enterprise()
    run = rebuild(engine)
    assert exclusion(run, abnormal).repairable
    assert exclusion(run, no_evidence).repairable
    assert not exclusion(run, zombie).repairable


def test_loans_and_credit_split_no_loan_and_has_loan(engine, cast):
    never, ledger, balance, first_date, zero = (active_firm() for _ in range(5))
    make_loan(ledger, cast.bank)
    make_credit(balance, cast.bank, loan_balance="10")
    make_credit(first_date, cast.bank, loan_balance="0", first_loan_date=date(2019, 1, 1))
    make_credit(zero, cast.bank, loan_balance="0")
    run = rebuild(engine)
    assert members(run, "no_loan") == {never.pk, zero.pk}
    assert members(run, "has_loan") == {ledger.pk, balance.pk, first_date.pk}


def test_first_loan_list_uses_the_first_ever_loan(engine, cast):
    first, earlier_credit, earlier_loan, _none = (active_firm() for _ in range(4))
    make_loan(first, cast.bank, disbursed_on=date(2025, 2, 1))
    make_loan(earlier_credit, cast.bank, disbursed_on=date(2025, 2, 1))
    make_credit(earlier_credit, cast.bank, loan_balance="5", first_loan_date=date(2020, 5, 1))
    make_loan(earlier_loan, cast.bank, disbursed_on=date(2024, 12, 31))
    make_loan(earlier_loan, cast.bank, disbursed_on=date(2025, 1, 1))
    run = rebuild(engine)
    assert members(run, "first_loan") == {first.pk}
    assert (run.period_start, run.period_end) == (date(2025, 1, 1), TODAY)


def test_key_visit_tiers_batches_and_bank_count(engine, cast):
    rule_set = RuleSet.current()
    rule_set.batch_size = 1
    rule_set.save()
    top = active_firm(size="micro")  # rating A 30 + 0 banks 30 + micro 20 + enterprise 15 = 95
    make_tax(top, tax_year=2024, credit_rating="A", tax_paid="1")
    second = active_firm(size="micro")
    make_tax(second, tax_year=2024, credit_rating="A", tax_paid="1")
    low = active_firm(size="large")  # D 0 + 2-3 banks 10 + large 0 + enterprise 15 = 25
    make_tax(low, tax_year=2024, credit_rating="D", tax_paid="1")
    make_loan(low, cast.bank, disbursed_on=date(2025, 1, 1))
    make_credit(low, cast.other_bank, loan_balance="3")
    run = rebuild(engine)
    rows = {
        m.enterprise_id: m for m in ListMembership.objects.filter(run=run, list_type="key_visit")
    }
    assert (rows[top.pk].tier, rows[top.pk].batch_no, rows[top.pk].score) == (1, 1, 95)
    assert (rows[second.pk].tier, rows[second.pk].batch_no) == (1, 2)
    assert (rows[low.pk].tier, rows[low.pk].bank_count, rows[low.pk].score) == (3, 2, 25)


def test_key_visit_threshold_excludes_with_a_reason(engine):
    RuleSet.objects.create(version=2, name="strict", key_visit_min_score=200)
    firm = active_firm()
    run = rebuild(engine)
    assert firm.pk in members(run, "active")
    assert firm.pk not in members(run, "key_visit")
    assert codes(exclusion(run, firm, "key_visit").reasons) == ["below_threshold"]
    assert run.rule_set.version == 2


def test_a_run_covers_only_its_county(engine):
    inside, outside = active_firm(), active_firm(region=LUCHENG_STREET)
    run = rebuild(engine)
    assert inside.pk in members(run, "active")
    assert outside.pk not in members(run, "active")


def test_reserve_pool_stays_empty_without_a_financing_need(engine):
    active_firm()
    run = rebuild(engine)
    assert members(run, "reserve") == set()
