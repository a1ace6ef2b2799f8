"""The list and run pages in words: labelled filters, plain errors, counts and rule sets named,
durations for people, tables that scroll on a phone."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from screening.models import ScreeningRun
from tests.factories import LUCHENG, LUCHENG_STREET, PINGYANG_TOWN, make_census, make_enterprise

from .helpers import rebuild

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(cast):
    mine = make_enterprise(region=PINGYANG_TOWN, name="平阳县昆阳镇某某贸易有限公司")
    make_census(mine, census_year=2023)
    make_census(make_enterprise(region=LUCHENG_STREET, name="鹿城企业"), census_year=2023)
    run = rebuild()
    ScreeningRun.objects.filter(pk=run.pk).update(
        finished_at=run.started_at + timedelta(seconds=9.904788)
    )
    return run


def get(user, path, **params):
    client = Client()
    client.force_login(user)
    return client.get(path, params)


def test_list_filters_are_labelled_with_all_choices(cast, run):
    html = get(cast.staff, "/lists/", list="active").content.decode()
    labels = re.findall(
        r'<label class="form-label small text-muted mb-0" for="id_(\w+)">([^<]+)</label>', html
    )
    assert [name for name, _label in labels] == [
        "q",
        "region",
        "tier",
        "batch",
        "entity_type",
        "rating",
        "banks",
    ]
    assert dict(labels)["region"] == "地区" and dict(labels)["rating"] == "纳税信用等级"
    assert "---------" not in html
    start = html.index('<select name="tier"')
    tiers = re.findall(
        r"<option[^>]*>([^<]+)</option>", html[start : html.index("</select>", start)]
    )
    assert tiers == ["全部", "第一层级", "第二层级", "第三层级"]
    assert '<input type="hidden" name="list" value="active">' in html


def test_the_repairable_filter_is_a_labelled_all_yes_no_choice(cast, run):
    html = get(cast.staff, "/lists/", list="excluded").content.decode()
    start = html.index('<select name="repairable"')
    choices = re.findall(
        r'<option value="(\w*)"[^>]*>([^<]+)</option>', html[start : html.index("</select>", start)]
    )
    assert choices == [("", "全部"), ("true", "是"), ("false", "否")]


def test_an_out_of_scope_region_on_a_list_says_so(cast, run):
    html = get(cast.staff, "/lists/", list="active", region=LUCHENG).content.decode()
    assert f"<div>地区: {LUCHENG} 不是您所辖范围内的地区。</div>" in html
    assert "鹿城企业" not in html and "昆阳镇某某" not in html


def test_list_tables_scroll_and_keep_names_whole(cast, run):
    html = get(cast.staff, "/lists/", list="active").content.decode()
    assert (
        '<div class="table-responsive">\n<table class="table table-sm table-hover small table-list">'
        in html
    )
    assert re.search(
        r'<td class="name"><a href="/enterprises/\d+/">平阳县昆阳镇某某贸易有限公司</a></td>', html
    )


def test_the_runs_page_names_the_rule_set_and_humanises_the_duration(cast, run):
    html = get(cast.staff, "/lists/runs/").content.decode()
    assert "<td>第 1 版（默认）</td>" in html and "v1 · default" not in html
    assert "<td>9.9 秒</td>" in html and "0:00:09" not in html


def test_the_run_page_labels_every_count(cast, run):
    html = get(cast.staff, f"/lists/runs/{run.pk}/").content.decode()
    badges = re.findall(r'<span class="badge text-bg-light run-count">([^<]+)</span>', html)
    assert sorted(badges) == sorted(
        [
            "登记经营主体 1",
            "活跃经营主体 1",
            "已登记但非活跃 0",
            "无贷户 1",
            "有贷户 0",
            "首贷户 0",
            "重点走访对象清单 1",
            "活跃但未达重点走访分数线 0",
            "首贷户储备库 0",
        ]
    )
    assert "excluded_active" not in html and "第 1 版（默认）" in html
    assert '<label class="form-label small text-muted mb-0" for="id_list">名单</label>' in html
