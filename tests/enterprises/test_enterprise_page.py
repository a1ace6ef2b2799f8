"""The enterprise page shows a bank officer only the rows the API would give them."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils.translation import override

from screening.choices import Reason
from tests.factories import make_census, make_credit, make_enterprise, make_loan
from tests.screening.helpers import rebuild

pytestmark = pytest.mark.django_db

OTHER_LOAN_NO = "NYH-20240506-77"
ELSEWHERE = "在其他银行有贷款"  # "Has loans at other banks", in the default zh-hans


@pytest.fixture
def borrower(cast):
    """A firm borrowing from the officer's branch and, earlier and for more, from another bank."""
    firm = make_enterprise(name="平阳双行企业")
    make_census(firm, census_year=2023)
    make_loan(firm, cast.bank, amount="120", disbursed_on=date(2025, 3, 1), loan_no="PY-OWN-1")
    make_loan(
        firm,
        cast.other_bank,
        amount="777.77",
        disbursed_on=date(2024, 5, 6),
        matures_on=date(2025, 5, 6),
        loan_no=OTHER_LOAN_NO,
    )
    make_credit(
        firm,
        cast.other_bank,
        as_of=date(2025, 6, 30),
        credit_limit="555.55",
        loan_balance="444.44",
        first_loan_date=date(2024, 5, 7),
    )
    return firm


def page(client, user, enterprise):
    client.force_login(user)
    response = client.get(reverse("enterprises:detail", args=[enterprise.pk]))
    assert response.status_code == 200
    return response.content.decode()


def has_elsewhere_line(body):
    return ELSEWHERE in body


def test_bank_officer_sees_only_their_branchs_loans_and_credit(client, cast, borrower):
    body = page(client, cast.officer, borrower)
    assert "PY-OWN-1" in body and "120.00" in body
    for leak in (OTHER_LOAN_NO, "777.77", "555.55", "444.44", cast.other_bank.name, "2024-05-0"):
        assert leak not in body
    assert has_elsewhere_line(body)


def test_bank_officer_reads_no_other_bank_line_when_there_is_none(client, cast):
    firm = make_enterprise()
    make_loan(firm, cast.bank, loan_no="PY-ONLY-1")
    # Credit at another bank with no loan on it is not a loan elsewhere.
    make_credit(firm, cast.other_bank, credit_limit="300", loan_balance="0")
    body = page(client, cast.officer, firm)
    assert "PY-ONLY-1" in body
    assert not has_elsewhere_line(body)


def test_county_staff_see_every_banks_rows_and_no_aggregate(client, cast, borrower):
    body = page(client, cast.staff, borrower)
    for row in (OTHER_LOAN_NO, "777.77", "555.55", "PY-OWN-1", cast.other_bank.name):
        assert row in body
    assert not has_elsewhere_line(body)


def test_the_reasons_panel_hides_other_banks_first_loan_dates(client, cast, borrower):
    # First ever loan at the other bank in the period; the officer's branch lent later.
    newcomer = make_enterprise(name="平阳新贷企业")
    make_census(newcomer, census_year=2023)
    make_loan(newcomer, cast.other_bank, disbursed_on=date(2025, 2, 3), loan_no="NYH-NEW-1")
    make_loan(newcomer, cast.bank, disbursed_on=date(2025, 4, 1), loan_no="PY-NEW-1")
    rebuild()

    staff_body = page(client, cast.staff, borrower)
    assert "2024-05-06" in staff_body  # "first loan was before the period 2024-05-06"
    assert "2025-02-03" in page(client, cast.staff, newcomer)

    body = page(client, cast.officer, borrower)
    assert "2024-05-06" not in body and "2024-05-07" not in body
    with override("zh-hans"):
        assert str(Reason.FIRST_LOAN_EARLIER.label) in body
    body = page(client, cast.officer, newcomer)
    assert "2025-02-03" not in body
    assert "PY-NEW-1" in body and "NYH-NEW-1" not in body


def test_the_reasons_panel_keeps_the_officers_own_first_loan_date(client, cast):
    firm = make_enterprise(name="平阳本行首贷")
    make_census(firm, census_year=2023)
    make_loan(firm, cast.bank, disbursed_on=date(2025, 2, 4), loan_no="PY-FIRST-1")
    rebuild()
    body = page(client, cast.officer, firm)
    panels = body[: body.index('<section id="timeline"')]  # the timeline repeats both
    assert panels.count("2025-02-04") == 2  # the loan table and the first-loan reason
    assert "2025-02-04" in body[len(panels) :]
