"""The dashboard page as people read it: units, names, labels, pickers; who gets it at all."""

import re

import pytest
from django.test import Client
from django.utils import translation

from tests.dashboards.helpers import KUNYANG, build_world
from tests.factories import LUCHENG, PINGYANG, WENZHOU

pytestmark = pytest.mark.django_db

PERIOD = {"start": "2025-01-01", "end": "2025-06-30"}


def page(user, **params):
    client = Client()
    client.force_login(user)
    return client.get("/dashboards/", {**PERIOD, **params})


def table(html, name):
    start = html.index(f'id="table-{name}"')
    return html[start : html.index("</table>", start)]


@pytest.fixture
def world(cast):
    return build_world(cast)


def test_a_bank_officer_gets_no_region_dashboard(cast, world):
    assert page(cast.officer).status_code == 404
    assert page(cast.officer, region=PINGYANG).status_code == 404
    client = Client()
    client.force_login(cast.officer)
    assert client.get("/dashboards/export/bank.xlsx", PERIOD).status_code == 404


def test_money_columns_have_one_unit_in_their_header(cast, world):
    html = page(cast.city_staff, region=WENZHOU).content.decode()
    region_table = table(html, "region")
    head = region_table[: region_table.index("</thead>")]
    assert '<th class="text-end">累放贷款金额（万元）</th>' in head
    body = region_table[region_table.index("<tbody>") :]
    assert "万元" not in body and "亿元" not in body
    # 平阳县: 510 万元 disbursed, a bare number, right-aligned (and kept on one line by the CSS).
    assert re.search(r'<td class="text-end" data-value="510[.0-9]*">510.00</td>', body)
    month = table(html, "month-summary")
    assert "万元" not in month[month.index("<tbody>") :]


def test_amount_and_money_filters():
    from dashboards.templatetags.dashboard_tags import amount, money

    assert amount("123456.789") == "123,456.79"
    assert amount(None) == "—"
    with translation.override("zh-hans"):
        assert money("18600") == "1.86 亿元"  # KPI cards only
        assert money("9856.91") == "9,856.91 万元"


def test_the_css_keeps_numbers_on_one_line():
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "static/css/rongxie.css").read_text()
    assert (
        ".table td.text-end, .table th.text-end { font-variant-numeric: tabular-nums; white-space: nowrap; }"
        in css
    )


def test_industry_rows_carry_the_gb_t_4754_section_names(cast, world):
    html = page(cast.staff, region=PINGYANG).content.decode()
    industry = table(html, "industry")
    labels = re.findall(r'<td class="name">([^<]+)</td>', industry)
    assert "C 制造业" in labels and "F 批发和零售业" in labels
    assert "C" not in labels and "F" not in labels
    with translation.override("en"):
        client = Client()
        client.force_login(cast.staff)
        client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        english = client.get("/dashboards/", {**PERIOD, "region": PINGYANG}).content.decode()
    assert "C Manufacturing" in table(english, "industry")


def test_pivot_charts_show_every_label_in_full(cast, world):
    html = page(cast.staff, region=PINGYANG).content.decode()
    assert "axisLabel: {interval: 0}" in html
    assert "containLabel: true" in html
    assert "grid: {left: 90}" not in html


def test_the_region_picker_lists_the_users_own_regions(cast, world):
    html = page(cast.staff, region=PINGYANG).content.decode()
    start = html.index('<select name="region"')
    select = html[start : html.index("</select>", start)]
    assert '<label class="form-label small text-muted mb-0" for="id_region">地区</label>' in html
    options = re.findall(r'<option value="(\d*)"( selected)?>([^<]+)</option>', select)
    assert options[0] == ("", "", "全部辖区")
    assert options[1] == (PINGYANG, " selected", "平阳县")
    assert (KUNYANG, "", "\u3000昆阳镇") in options
    assert all(code.startswith("330326") for code, _sel, _name in options[1:])
    assert LUCHENG not in select


def test_an_out_of_scope_region_is_still_refused(cast, world):
    assert page(cast.staff, region=LUCHENG).status_code == 404
