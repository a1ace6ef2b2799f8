"""GET /api/v1/stats/: figures, formats, validation and scoping."""

import pytest
from rest_framework.test import APIClient

from tests.dashboards.helpers import build_world
from tests.factories import LUCHENG, PINGYANG, WENZHOU

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/"
PERIOD = {"start": "2025-01-01", "end": "2025-06-30"}


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(cast):
    return build_world(cast)


def test_totals_as_strings_and_rates_as_decimals(cast, world):
    response = client_for(cast.staff).get(URL, PERIOD)
    assert response.status_code == 200
    data = response.json()
    assert data["region"]["code"] == PINGYANG  # default: the user's region
    assert data["disbursed_amount"] == "510.000000"
    assert data["credit_loan_amount"] == "160.000000"
    assert data["first_loan_enterprises"] == 2
    assert data["renewal_balance"] == "155.000000"
    assert data["renewal_increase_ytd"] == "25.000000"
    assert data["renewal_yoy_growth"] == 2.875
    assert data["as_of"]
    assert data["rows"] == []


def test_null_growth_and_group_by_region(cast, world):
    data = client_for(cast.city_staff).get(URL, {**PERIOD, "region": LUCHENG}).json()
    assert data["renewal_yoy_growth"] is None
    data = client_for(cast.city_staff).get(URL, {**PERIOD, "region": WENZHOU, "group_by": "region"})
    rows = {r["region"]: r for r in data.json()["rows"]}
    assert rows[PINGYANG]["disbursed_amount"] == "510.000000"
    assert rows[LUCHENG]["first_loan_amount"] == "500.000000"


def test_group_by_bank_and_month(cast, world):
    rows = client_for(cast.staff).get(URL, {**PERIOD, "group_by": "bank"}).json()["rows"]
    assert {r["key"] for r in rows} == {"PY-HEAD", "RA-BR"}
    rows = client_for(cast.staff).get(URL, {**PERIOD, "group_by": "month"}).json()["rows"]
    assert [r["key"] for r in rows][:2] == ["2025-01", "2025-02"]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2025-13-01"},
        {"end": "yesterday"},
        {"start": "2025-07-01", "end": "2025-06-30"},
        {"group_by": "planet"},
        {"region": "999999"},
    ],
)
def test_bad_parameters_are_400(cast, world, params):
    response = client_for(cast.staff).get(URL, params)
    assert response.status_code == 400
    assert response.json()


def test_other_county_is_404_never_numbers(cast, world):
    response = client_for(cast.outsider_staff).get(URL, {**PERIOD, "region": PINGYANG})
    assert response.status_code == 404
    assert "disbursed_amount" not in response.json()
    # a county user cannot widen to the city either
    assert client_for(cast.staff).get(URL, {"region": WENZHOU}).status_code == 404
    # the township worker cannot see the county
    assert client_for(cast.township).get(URL, {"region": PINGYANG}).status_code == 404


def test_anonymous_is_refused(world):
    response = APIClient().get(URL)
    assert response.status_code == 403
    assert response.data["detail"].code == "not_authenticated"


def test_schema_lists_stats(cast):
    response = client_for(cast.admin).get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"/api/v1/stats/" in response.content
