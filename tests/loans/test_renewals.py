"""Issue 15: renewals without principal repayment — the link's rules, the chain, balances once."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from loans.models import Loan
from loans.services import outstanding_balance, record_loan, renewal_chains, validate_renewal
from tests.factories import make_assignment, make_enterprise, make_loan

from .helpers import loan_data, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm(cast):
    enterprise = make_enterprise()
    make_assignment(enterprise, cast.bank)
    return enterprise


def test_a_loan_cannot_renew_itself(cast, firm):
    loan = record(cast.officer, firm, cast.bank, "A-1", date(2025, 1, 5))
    with pytest.raises(ValidationError) as caught:
        record_loan(cast.officer, {**loan_data(firm, cast.bank, "A-1", loan.disbursed_on,
                    loan.matures_on), "renews": loan}, instance=loan)  # fmt: skip
    assert (
        "不能续贷自身" in str(caught.value.message_dict["renews"])
        or caught.value.message_dict["renews"]
    )
    loan.refresh_from_db()
    assert loan.renews_id is None


def test_a_renewal_cycle_is_refused(cast, firm):
    a = record(cast.officer, firm, cast.bank, "A-1", date(2024, 1, 5))
    b = record(cast.officer, firm, cast.bank, "A-2", date(2025, 1, 5), renews=a)
    c = record(cast.officer, firm, cast.bank, "A-3", date(2026, 1, 5), renews=b)
    a.renews = c  # a → c → b → a
    with pytest.raises(ValidationError) as caught:
        validate_renewal(a)
    assert "renews" in caught.value.message_dict
    with pytest.raises(ValidationError):
        record_loan(cast.officer, {**loan_data(firm, cast.bank, "A-1", a.disbursed_on,
                    a.matures_on), "renews": c}, instance=Loan.objects.get(pk=a.pk))  # fmt: skip
    assert Loan.objects.get(pk=a.pk).renews_id is None


def test_a_renewal_of_another_enterprises_loan_is_refused(cast, firm):
    other = make_enterprise()
    make_assignment(other, cast.bank)
    theirs = record(cast.officer, other, cast.bank, "B-1", date(2025, 1, 5))
    with pytest.raises(ValidationError) as caught:
        record(cast.officer, firm, cast.bank, "A-1", date(2026, 1, 5), renews=theirs)
    assert "renews" in caught.value.message_dict
    assert not Loan.objects.filter(loan_no="A-1").exists()


def test_a_renewal_of_another_banks_loan_is_refused(cast, firm):
    theirs = make_loan(firm, cast.other_bank, disbursed_on=date(2025, 1, 5),
                       matures_on=date(2026, 1, 5))  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        record(cast.officer, firm, cast.bank, "A-1", date(2026, 1, 5), renews=theirs)
    assert "renews" in caught.value.message_dict


def test_the_whole_chain_is_one_chain_in_order(cast, firm):
    a = record(cast.officer, firm, cast.bank, "A-1", date(2024, 1, 5))
    b = record(cast.officer, firm, cast.bank, "A-2", date(2025, 1, 5), renews=a)
    c = record(cast.officer, firm, cast.bank, "A-3", date(2026, 1, 5), renews=b)
    alone = record(cast.officer, firm, cast.bank, "X-1", date(2025, 6, 5))
    chains = renewal_chains(Loan.objects.filter(enterprise=firm))
    assert [[loan.loan_no for loan in chain] for chain in chains] == [
        ["A-1", "A-2", "A-3"],
        ["X-1"],
    ]
    assert (b.is_renewal, b.renews_loan_no, c.renews_id, alone.renews_id) == (
        True,
        "A-1",
        b.pk,
        None,
    )


def test_an_original_loan_stops_counting_once_its_renewal_is_disbursed(cast, firm):
    # The renewal is disbursed before the original's maturity: the debt is counted once.
    a = record(cast.officer, firm, cast.bank, "A-1", date(2025, 1, 1), date(2026, 1, 31),
               amount="100")  # fmt: skip
    record(cast.officer, firm, cast.bank, "A-2", date(2026, 1, 20), date(2027, 1, 20),
           amount="100", renews=a)  # fmt: skip
    loans = Loan.objects.filter(enterprise=firm)
    assert outstanding_balance(loans, date(2026, 1, 10)) == Decimal("100")
    assert outstanding_balance(loans, date(2026, 1, 25)) == Decimal("100")  # not 200
    assert outstanding_balance(loans, date(2027, 2, 1)) == 0


def test_the_chain_is_on_the_enterprise_page(client, cast, firm):
    a = record(cast.officer, firm, cast.bank, "A-1", date(2024, 1, 5))
    record(cast.officer, firm, cast.bank, "A-2", date(2025, 1, 5), renews=a)
    client.force_login(cast.staff)
    page = client.get(f"/enterprises/{firm.pk}/").content.decode()
    assert "renewal-chain" in page
    chain = page.split('class="small renewal-chain"')[1].split("</ol>")[0]
    assert chain.index("A-1") < chain.index("A-2")
