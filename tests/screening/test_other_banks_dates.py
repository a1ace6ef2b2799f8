"""A bank officer reads the lists without other banks' first-loan dates, at every door:
list page, export, run changes page and API (members and changes)."""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import make_census, make_enterprise, make_loan

from .helpers import rebuild

pytestmark = pytest.mark.django_db

OTHER_DAY = "2025-02-03"  # first ever loan, at the other bank, inside the period
OWN_DAY = "2025-02-04"  # first ever loan of another firm, at the officer's branch


@pytest.fixture
def runs(cast):
    newcomer = make_enterprise(name="他行首贷企业")
    make_census(newcomer, census_year=2023)
    own = make_enterprise(name="本行首贷企业")
    make_census(own, census_year=2023)
    first = rebuild()
    make_loan(newcomer, cast.other_bank, disbursed_on=date(2025, 2, 3), loan_no="NYH-1")
    make_loan(newcomer, cast.bank, disbursed_on=date(2025, 4, 1), loan_no="PY-1")
    make_loan(own, cast.bank, disbursed_on=date(2025, 2, 4), loan_no="PY-2")
    second = rebuild()
    return {"newcomer": newcomer, "own": own, "first": first, "second": second}


def test_the_list_page_hides_other_banks_dates(client, cast, runs):
    client.force_login(cast.officer)
    body = client.get(reverse("screening:index"), {"list": "first_loan"}).content.decode()
    assert runs["newcomer"].uscc in body and runs["own"].uscc in body
    assert OTHER_DAY not in body and OWN_DAY in body
    client.force_login(cast.staff)
    body = client.get(reverse("screening:index"), {"list": "first_loan"}).content.decode()
    assert OTHER_DAY in body and OWN_DAY in body


def test_the_export_hides_other_banks_dates(client, cast, runs):
    client.force_login(cast.officer)
    response = client.get(reverse("screening:export"), {"list": "first_loan"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    reasons = {row[0]: row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert OTHER_DAY not in reasons[runs["newcomer"].uscc]
    assert OWN_DAY in reasons[runs["own"].uscc]


def test_the_run_changes_page_hides_other_banks_dates(client, cast, runs):
    client.force_login(cast.officer)
    url = reverse("screening:run_detail", args=[runs["second"].pk])
    body = client.get(url, {"list": "first_loan"}).content.decode()
    assert runs["newcomer"].name in body
    assert OTHER_DAY not in body and OWN_DAY in body


def test_the_api_hides_other_banks_dates(client, cast, runs):
    client.force_login(cast.officer)
    data = client.get("/api/v1/lists/members/", {"list_type": "first_loan"}).json()
    rows = {r["uscc"]: r for r in data["results"]}
    newcomer, own = rows[runs["newcomer"].uscc], rows[runs["own"].uscc]
    assert newcomer["first_loan_on"] is None
    assert newcomer["reasons"][0]["code"] == "first_loan_in_period"
    assert "on" not in newcomer["reasons"][0] and OTHER_DAY not in newcomer["reasons"][0]["text"]
    assert own["first_loan_on"] == OWN_DAY and own["reasons"][0]["on"] == OWN_DAY

    changes = client.get(
        f"/api/v1/screening/runs/{runs['second'].pk}/changes/", {"list_type": "first_loan"}
    ).json()
    assert OTHER_DAY not in str(changes) and OWN_DAY in str(changes)

    client.force_login(cast.staff)
    data = client.get("/api/v1/lists/members/", {"list_type": "first_loan"}).json()
    rows = {r["uscc"]: r for r in data["results"]}
    assert rows[runs["newcomer"].uscc]["first_loan_on"] == OTHER_DAY
