"""Journey 6 — a city regulator: the dashboard, drill-down city → county → township, the
.xlsx export, whose figures are the ones on screen; then the funnel and the bank ranking, each
chart switched to its table, and the funnel exported. In Chinese, and once in English.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook
from playwright.sync_api import expect

from accounts.choices import Role
from enterprises.models import Region
from screening.services import rebuild_region
from tests.dashboards.helpers import KUNYANG, add_coordination, build_world
from tests.factories import LUCHENG, PINGYANG, WENZHOU, make_census, make_user

pytestmark = pytest.mark.e2e

START, END = "2025-01-01", "2025-06-30"
NUMBER = re.compile(r"-?[\d,]+(?:\.(\d+))?")


def shown_matches(text, exported):
    """Does the figure shown as ``text`` ("1,010.00 万元", "1.86 亿元", "42.24%", "12", "—")
    equal the exported cell, to the precision shown?"""
    text = text.strip()
    if exported is None:
        return text in ("", "—", "-")
    match = NUMBER.search(text)
    if match is None:
        return False
    decimals = len(match.group(1) or "")
    scale = Decimal(1)
    if "亿" in text or "100M" in text:
        scale = Decimal(10000)  # shown in 亿元, exported in 万元
    if text.endswith("%"):
        scale = Decimal("0.01")
    shown = Decimal(match.group(0).replace(",", "")) * scale
    return abs(shown - Decimal(str(exported))) <= Decimal("0.5") * Decimal(10) ** -decimals * scale


def _world(cast):
    """The hand-made dashboard world of tests/dashboards, with census records and current
    screening runs so the active-entity figures exist too."""
    world = add_coordination(cast, build_world(cast))
    for key in ("A", "C", "D", "G", "H", "E"):
        make_census(world.ents[key])
    for county in (PINGYANG, LUCHENG):
        rebuild_region(Region.objects.get(code=county))
    return world


def compare_export(page, tmp_path, name, labels):
    """Export table ``name`` of the page and compare it with the table on screen."""
    table = page.locator(f"#table-{name}")
    header = [t.strip() for t in table.locator("thead th").all_inner_texts()]
    rows = table.locator("tbody tr").all()
    shown = [[t.strip() for t in row.locator("td").all_inner_texts()] for row in rows]
    raw = [
        [c.get_attribute("data-value") for c in row.locator("td[data-value]").all()] for row in rows
    ]
    assert [row[0] for row in shown] == labels
    export = page.locator(f'a[href^="{reverse("dashboards:export", args=[name])}?"]')
    with page.expect_download() as download_info:
        export.click()
    download = download_info.value
    assert download.suggested_filename == f"stats-{KUNYANG}-{name}-20250101-20250630.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    exported_header, *exported = list(load_workbook(path, read_only=True).active.values)
    # read-only mode drops empty trailing cells
    exported = [list(line) + [None] * (len(header) - len(line)) for line in exported]
    assert list(exported_header[1:]) == header[1:]
    assert [line[0] for line in exported] == labels
    for line, texts, values in zip(exported, shown, raw, strict=True):
        for text, value, cell in zip(texts[1:], values, line[1:], strict=True):
            assert shown_matches(text, cell), (line[0], text, cell)
            assert (Decimal(value) if value else None) == (
                Decimal(str(cell)) if cell is not None else None
            )
    assert any(cell for line in exported for cell in line[1:])  # not an empty table


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_regulator_drills_down_and_exports(
    page, live_server, login, shot, cast, tmp_path, language
):
    _world(cast)
    regulator = make_user("city_regulator", Role.REGULATOR, region=WENZHOU)
    login(page, regulator)
    if language != "zh-hans":
        # the language menu of every page
        with page.expect_navigation():
            page.locator("select[name=language]").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)

    with translation.override(language):
        page.locator(f'nav a[href="{reverse("dashboards:index")}"]').first.click()
        expect(page).to_have_url(re.compile(r"/dashboards/"))
        page.locator("input[name=start]").fill(START)
        page.locator("input[name=end]").fill(END)
        with page.expect_navigation():
            page.locator("input[name=end]").press("Enter")

        # city → county → township, through the region table's links
        expect(page.locator("h1")).to_contain_text("温州市")
        counties = page.locator("#table-region tbody tr")
        expect(counties.filter(has_text="平阳县")).to_have_count(1)
        expect(counties.filter(has_text="鹿城区")).to_have_count(1)
        page.locator("#table-region").get_by_role("link", name="平阳县", exact=True).click()
        expect(page.locator("h1")).to_contain_text("平阳县")
        expect(page.locator(".breadcrumb").get_by_role("link", name="温州市")).to_have_count(1)
        page.locator("#table-region").get_by_role("link", name="昆阳镇", exact=True).click()
        expect(page.locator("h1")).to_contain_text("昆阳镇")
        assert f"region={KUNYANG}" in page.url and f"start={START}" in page.url

        # the township's tables exported: the same header, rows and figures as on screen
        compare_export(page, tmp_path, "bank", ["温州银行", "瑞安农商银行"])  # by head bank
        compare_export(page, tmp_path, "month", [f"2025-{m:02d}" for m in range(1, 7)])
    shot(page, f"journey6-dashboard-{language}")

    with translation.override(language):
        # the monthly trends: chart, then its table
        expect(page.locator("#trend-chart")).to_be_visible()
        page.locator('[data-switch="trend"] [data-show="table"]').click()
        expect(page.locator("#table-month-summary")).to_be_visible()
        expect(page.locator("#trend-chart")).to_be_hidden()

        # the funnel of the same township and period
        page.locator("#tab-funnel").click()
        expect(page).to_have_url(re.compile(r"/dashboards/funnel/"))
        assert f"region={KUNYANG}" in page.url and f"start={START}" in page.url
        expect(page.locator("#funnel-chart canvas")).to_have_count(1)
        page.locator('[data-switch="funnel"] [data-show="table"]').click()
        table = page.locator("#table-funnel")
        expect(table).to_be_visible()
        counts = [c.strip() for c in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
        # 昆阳镇: A, C visited; A found a need; A, C, D, H, I recommended; A, C credited;
        # A, C, D borrowed in the period
        assert counts[1:] == ["2", "1", "5", "2", "3"]
        with page.expect_download() as download_info:
            page.locator("#export-funnel").click()
        path = tmp_path / download_info.value.suggested_filename
        download_info.value.save_as(path)
        exported = list(load_workbook(path, read_only=True).active.values)
        assert [line[1] for line in exported[2:7]] == [2, 1, 5, 2, 3]

        # the bank ranking: chart, then its table
        page.locator("#tab-ranking").click()
        expect(page).to_have_url(re.compile(r"/dashboards/banks/"))
        expect(page.locator("#ranking-chart canvas")).to_have_count(1)
        page.locator('[data-switch="ranking"] [data-show="table"]').click()
        ranking = page.locator("#table-ranking")
        expect(ranking).to_be_visible()
        expect(ranking.locator("tbody tr").filter(has_text="温州银行")).not_to_have_count(0)
    shot(page, f"journey6-ranking-{language}")
