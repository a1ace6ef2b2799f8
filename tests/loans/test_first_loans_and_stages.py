"""Issue 15: first loans across sources and banks, and the stage path 无贷户 → 首贷户 → 伙伴客户."""

from datetime import date

import pytest

from loans.models import EnterpriseStage, Loan, LoanRules, StageChange
from loans.services import recompute_stages
from tests.factories import make_assignment, make_credit, make_enterprise, make_loan

from .helpers import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm(cast):
    enterprise = make_enterprise()
    make_assignment(enterprise, cast.bank)
    return enterprise


def stage(enterprise):
    row = EnterpriseStage.objects.filter(enterprise=enterprise).first()
    return row.stage if row else "no_loan"


def test_the_first_recorded_loan_of_an_enterprise_without_loans_is_a_first_loan(cast, firm):
    assert stage(firm) == "no_loan"
    loan = record(cast.officer, firm, cast.bank, "A-1", date(2026, 3, 5))
    loan.refresh_from_db()
    assert loan.is_first_loan
    row = EnterpriseStage.objects.get(enterprise=firm)
    assert (row.stage, row.since, row.first_loan_id) == ("first_loan", date(2026, 3, 5), loan.pk)
    change = StageChange.objects.get(enterprise=firm)
    assert (change.from_stage, change.to_stage, change.changed_on, change.loan_id) == (
        "no_loan",
        "first_loan",
        date(2026, 3, 5),
        loan.pk,
    )


def test_an_earlier_first_loan_date_in_credit_data_means_not_a_first_loan(cast, firm):
    make_credit(firm, cast.other_bank, as_of=date(2026, 1, 31), first_loan_date=date(2019, 6, 1))
    loan = record(cast.officer, firm, cast.bank, "A-1", date(2026, 3, 5))
    loan.refresh_from_db()
    assert not loan.is_first_loan
    assert stage(firm) == "borrower"


def test_a_credit_balance_before_the_loan_means_not_a_first_loan(cast, firm):
    make_credit(firm, cast.other_bank, as_of=date(2025, 12, 31), loan_balance="50")
    loan = record(cast.officer, firm, cast.bank, "A-1", date(2026, 3, 5))
    loan.refresh_from_db()
    assert not loan.is_first_loan


def test_credit_data_showing_this_same_loan_later_keeps_it_a_first_loan(cast, firm):
    loan = record(cast.officer, firm, cast.bank, "A-1", date(2026, 3, 5))
    make_credit(firm, cast.bank, as_of=date(2026, 6, 30), loan_balance="100",
                first_loan_date=date(2026, 3, 5))  # fmt: skip
    recompute_stages(enterprise_ids=[firm.pk])
    loan.refresh_from_db()
    assert loan.is_first_loan


def test_an_earlier_loan_at_another_bank_means_not_a_first_loan(cast, firm):
    earlier = make_loan(firm, cast.other_bank, disbursed_on=date(2025, 2, 1),
                        matures_on=date(2026, 2, 1))  # fmt: skip
    loan = record(cast.officer, firm, cast.bank, "A-1", date(2026, 3, 5))
    loan.refresh_from_db()
    earlier.refresh_from_db()
    assert not loan.is_first_loan
    assert earlier.is_first_loan  # the other bank's loan was the first one
    assert stage(firm) == "partner"  # and ours is borrowing again


def test_borrowing_again_makes_a_partner_dated_by_the_second_loan(cast, firm):
    record(cast.officer, firm, cast.bank, "A-1", date(2026, 1, 5))
    second = record(cast.officer, firm, cast.bank, "A-2", date(2026, 4, 1))
    row = EnterpriseStage.objects.get(enterprise=firm)
    assert (row.stage, row.since) == ("partner", date(2026, 4, 1))
    path = list(
        StageChange.objects.filter(enterprise=firm).values_list("from_stage", "to_stage", "loan_id")
    )
    assert path[-1] == ("first_loan", "partner", second.pk)
    assert len(path) == 2


def test_a_renewal_is_not_borrowing_again(cast, firm):
    first = record(cast.officer, firm, cast.bank, "A-1", date(2025, 1, 5))
    record(cast.officer, firm, cast.bank, "A-1R", date(2026, 1, 5), renews=first)
    assert stage(firm) == "first_loan"


def test_the_partner_rule_is_configurable_per_county(cast, firm):
    LoanRules.objects.create(region_id="330326", partner_after_loans=3, partner_products=3)
    record(cast.officer, firm, cast.bank, "A-1", date(2026, 1, 5))
    record(cast.officer, firm, cast.bank, "A-2", date(2026, 2, 5), product="fixed_asset")
    assert stage(firm) == "first_loan"  # two loans, two products: not enough in this county
    record(cast.officer, firm, cast.bank, "A-3", date(2026, 3, 5), product="acceptance_bill")
    row = EnterpriseStage.objects.get(enterprise=firm)
    assert (row.stage, row.since) == ("partner", date(2026, 3, 5))


def test_holding_two_products_makes_a_partner_by_the_default_rule(cast, firm, settings):
    settings.LOANS_PARTNER_AFTER_LOANS = 5
    first = record(cast.officer, firm, cast.bank, "A-1", date(2025, 1, 5))
    # A renewal in another product: not a new loan, but a second product.
    record(cast.officer, firm, cast.bank, "A-1R", date(2026, 1, 5), renews=first,
           product="acceptance_bill")  # fmt: skip
    assert stage(firm) == "partner"


def test_an_import_of_two_loans_records_both_steps_of_the_path(cast, firm):
    make_loan(firm, cast.bank, disbursed_on=date(2025, 1, 5), matures_on=date(2026, 1, 5))
    make_loan(firm, cast.bank, disbursed_on=date(2025, 6, 5), matures_on=date(2026, 6, 5))
    recompute_stages()
    path = list(
        StageChange.objects.filter(enterprise=firm)
        .order_by("changed_on")
        .values_list("from_stage", "to_stage", "changed_on")
    )
    assert path == [
        ("no_loan", "first_loan", date(2025, 1, 5)),
        ("first_loan", "partner", date(2025, 6, 5)),
    ]
    # Recomputing again changes nothing.
    recompute_stages()
    assert StageChange.objects.filter(enterprise=firm).count() == 2


def test_deleting_the_only_loan_moves_the_enterprise_back_with_a_history_row(cast, firm):
    from loans.services import delete_loan

    loan = record(cast.officer, firm, cast.bank, "A-1", date(2026, 1, 5))
    delete_loan(cast.officer, loan)
    assert stage(firm) == "no_loan"
    last = StageChange.objects.filter(enterprise=firm).order_by("pk").last()
    assert (last.from_stage, last.to_stage, last.loan_id) == ("first_loan", "no_loan", None)
    assert not Loan.all_objects.get(pk=loan.pk).is_first_loan


def test_stages_are_recomputed_after_a_loans_import(
    cast, firm, tmp_path, django_capture_on_commit_callbacks
):
    from enterprises.importing import import_file
    from tests.enterprises.helpers import write_csv

    header = ["统一社会信用代码", "银行机构代码", "借据号", "放款日期", "到期日期",
              "放款金额（万元）", "产品类型", "担保方式"]  # fmt: skip
    path = write_csv(
        tmp_path / "loans.csv",
        header,
        [[firm.uscc, "PY-BR", "IMP-1", "2026-02-01", "2027-02-01", "100", "流动资金贷款", "信用"]],
    )
    with django_capture_on_commit_callbacks(execute=True):
        batch = import_file("loans", path, file_name="loans.csv")
    assert batch.status == "applied", batch.message
    loan = Loan.objects.get(loan_no="IMP-1")
    assert loan.is_first_loan
    assert stage(firm) == "first_loan"
