"""The dashboard page and the .xlsx export."""

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from dashboards.exports import safe_cell
from tests.dashboards.helpers import KUNYANG, build_world, external_assets
from tests.factories import LUCHENG, PINGYANG, WENZHOU

pytestmark = pytest.mark.django_db

PERIOD = {"start": "2025-01-01", "end": "2025-06-30"}


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(cast):
    return build_world(cast)


def test_page_shows_cards_drilldown_and_charts(cast, world):
    response = client_for(cast.city_staff).get("/dashboards/", {**PERIOD, "region": WENZHOU})
    assert response.status_code == 200
    html = response.content.decode()
    assert "echarts.min.js" in html and external_assets(html) == []
    assert f"region={PINGYANG}" in html  # county rows link one level down
    assert "1,010.00" in html  # disbursed 1010 万元
    drill = client_for(cast.city_staff).get("/dashboards/", {**PERIOD, "region": PINGYANG})
    assert f"region={KUNYANG}" in drill.content.decode()


def test_page_scoped_and_validated(cast, world):
    assert client_for(cast.staff).get("/dashboards/", {"region": WENZHOU}).status_code == 404
    assert (
        client_for(cast.outsider_staff).get("/dashboards/", {"region": PINGYANG}).status_code == 404
    )
    assert client_for(cast.staff).get("/dashboards/", {"start": "nope"}).status_code == 400
    assert client_for(cast.staff).get("/dashboards/").status_code == 200  # defaults


def test_export_xlsx(cast, world):
    response = client_for(cast.city_staff).get(
        "/dashboards/export/region.xlsx", {**PERIOD, "region": WENZHOU}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {r[0]: r for r in sheet.iter_rows(values_only=True)}
    assert rows["平阳县"][3] == 510  # disbursed column after active, no-loan
    assert rows["鹿城区"][3] == 500
    assert (
        client_for(cast.outsider_staff)
        .get("/dashboards/export/region.xlsx", {"region": PINGYANG})
        .status_code
        == 404
    )
    assert (
        client_for(cast.city_staff)
        .get("/dashboards/export/nothing.xlsx", {"region": LUCHENG})
        .status_code
        == 404
    )


def test_formula_cells_neutralised():
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-2") == "'-2"
    assert safe_cell("+x") == "'+x"
    assert safe_cell("平阳县") == "平阳县"
    assert safe_cell(-2) == -2
