"""Helpers of the loans tests: a loan recorded by the officer, form data."""

from datetime import date
from decimal import Decimal

from loans.services import record_loan


def loan_data(enterprise, bank, loan_no, disbursed_on, matures_on, amount="100", **extra):
    data = {
        "enterprise": enterprise,
        "bank": bank,
        "loan_no": loan_no,
        "disbursed_on": disbursed_on,
        "matures_on": matures_on,
        "amount": Decimal(amount),
        "balance": None,
        "product": "working_capital",
        "guarantee": "credit",
        "rate": None,
    }
    data.update(extra)
    return data


def record(
    user, enterprise, bank, loan_no, disbursed_on=date(2026, 1, 10), matures_on=None, **extra
):
    matures_on = matures_on or date(disbursed_on.year + 1, disbursed_on.month, disbursed_on.day)
    return record_loan(
        user, loan_data(enterprise, bank, loan_no, disbursed_on, matures_on, **extra)
    )
