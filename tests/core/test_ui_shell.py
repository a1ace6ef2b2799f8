"""The shell each role meets: its menu, its home, error pages, languages, job pages in words."""

import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import translation

from core import jobs
from core.models import Job

pytestmark = pytest.mark.django_db

MENU = {
    "/enterprises/": "经营主体",
    "/enterprises/imports/": "数据导入",
    "/lists/": "筛分名单",
    "/dashboards/": "监测看板",
    "/banks/": "银行机构",
    "/banks/matching/": "双线对接",
    "/banks/attention/": "待关注",
    "/visits/applications/": "推荐清单",
    "/visits/new/": "记录走访",
    "/visits/mine/": "我的走访",
    "/visits/due/": "待走访",
    "/visits/items/": "问题协调",
    "/jobs/": "后台任务",
    "/api/v1/docs/": "接口文档",
    "/history/": "变更历史",
}


def menu_of(user):
    client = Client()
    client.force_login(user)
    body = client.get("/", follow=True).content.decode()  # a bank officer's home redirects
    nav = body[body.index('<ul class="navbar-nav') : body.index("</ul>")]
    return [href for href in re.findall(r'href="([^"]+)"', nav) if href != "/"]


def test_each_role_sees_only_the_menu_entries_it_can_use(cast):
    everything = list(MENU)
    assert menu_of(cast.admin) == everything
    assert menu_of(cast.staff) == [
        "/enterprises/",
        "/enterprises/imports/",
        "/lists/",
        "/dashboards/",
        "/banks/",
        "/banks/matching/",
        "/banks/attention/",
        "/visits/applications/",
        "/visits/new/",
        "/visits/mine/",
        "/visits/due/",
        "/visits/items/",
        "/jobs/",
    ]
    visits = ["/visits/new/", "/visits/mine/", "/visits/due/", "/visits/items/"]
    lists = ["/enterprises/", "/lists/", "/dashboards/", "/visits/applications/"]
    assert menu_of(cast.township) == [*lists, *visits]
    assert menu_of(cast.regulator) == [*lists, "/visits/items/"]
    # A bank officer's scope is its branches, not a region: region dashboards would be absurd.
    assert menu_of(cast.officer) == ["/enterprises/", "/lists/", "/banks/workspace/", *visits]
    assert menu_of(cast.partner) == [
        "/enterprises/",
        "/lists/",
        "/dashboards/",
        "/visits/applications/",
        "/visits/items/",
        "/api/v1/docs/",
    ]


def test_the_menu_labels_are_chinese(cast):
    client = Client()
    client.force_login(cast.admin)
    body = client.get("/").content.decode()
    for href, label in MENU.items():
        assert f'href="{href}">{label}</a>' in body


def test_the_language_menu_names_each_language_in_itself(client, cast):
    client.force_login(cast.staff)
    body = client.get("/").content.decode()
    assert '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>' in body
    assert '<option value="en" lang="en">English</option>' in body
    assert "英语" not in body


def test_a_bank_officer_is_refused_the_upload_page_with_a_styled_chinese_403(cast):
    client = Client()
    client.force_login(cast.officer)
    response = client.get("/enterprises/imports/new/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "您无权打开此页面" in body
    assert 'class="navbar' in body  # the site's layout, with its menu
    assert '<a class="btn btn-primary" href="/">返回首页</a>' in body
    assert "403 Forbidden" not in body


def test_the_403_page_follows_the_users_language(cast):
    client = Client()
    client.force_login(cast.officer)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/enterprises/imports/new/").content.decode()
    assert "You may not open this page" in body and "Back to the home page" in body


def test_a_missing_page_is_a_styled_404_with_a_way_home(cast):
    client = Client()
    client.force_login(cast.staff)
    response = client.get("/enterprises/999999999/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "此页面不存在，或不在您的查看范围内" in body
    assert '<a class="btn btn-primary" href="/">返回首页</a>' in body
    assert 'class="navbar' in body


def test_the_500_page_needs_no_database_and_no_context(django_assert_num_queries):
    with translation.override("zh-hans"), django_assert_num_queries(0):
        body = render_to_string("500.html")
    assert "系统出现错误" in body and '<a class="btn btn-primary" href="/">返回首页</a>' in body
    assert "bootstrap.min.css" in body


def test_the_server_error_view_uses_the_styled_page():
    from django.views.defaults import server_error

    with translation.override("zh-hans"):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "系统出现错误" in response.content.decode()


def test_a_bank_officers_home_is_the_workspace_of_its_enterprises(cast):
    client = Client()
    client.force_login(cast.officer)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/banks/workspace/"
    body = client.get("/banks/workspace/").content.decode()
    # No region figures, no region, no jobs section for a bank officer.
    assert "监测看板" not in body and "浙江省" not in body and "最近的任务" not in body


def test_the_home_of_region_staff_has_no_bank_cards(cast):
    client = Client()
    client.force_login(cast.staff)
    body = client.get("/").content.decode()
    assert "bank-tie" not in body
    assert 'href="/jobs/"' in body


@pytest.mark.parametrize(
    "seconds, chinese, english",
    [
        (9.904788, "9.9 秒", "9.9 s"),
        (0.04, "0.0 秒", "0.0 s"),
        (125, "2 分 5 秒", "2 min 5 s"),
        (3 * 3600 + 7 * 60 + 20, "3 小时 7 分", "3 h 7 min"),
    ],
)
def test_durations_read_as_words(seconds, chinese, english):
    from core.templatetags.core_tags import duration

    with translation.override("zh-hans"):
        assert duration(timedelta(seconds=seconds)) == chinese
    with translation.override("en"):
        assert duration(timedelta(seconds=seconds)) == english
    assert duration(None) == "—"


def test_the_job_page_labels_counts_and_parameters_and_humanises_the_duration(cast):
    job = Job.objects.create(
        kind="screening.rebuild",
        created_by=cast.staff,
        status="succeeded",
        params={"trigger": "nightly", "fan_out": False},
        counts={"counties": 1, "active": 15662, "excluded_active": 120, "registered": 20000},
    )
    now = job.created_at
    Job.objects.filter(pk=job.pk).update(
        started_at=now, finished_at=now + timedelta(seconds=9.904788)
    )
    client = Client()
    client.force_login(cast.staff)
    body = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "9.9 秒" in body and "0:00:09" not in body
    rows = re.findall(
        r'<th class="fw-normal text-muted">([^<]+)</th><td class="num">([^<]+)</td>', body
    )
    assert sorted(rows) == sorted(
        [
            ("县（市、区）数", "1"),
            ("活跃经营主体", "15,662"),
            ("已登记但非活跃", "120"),
            ("登记经营主体", "20,000"),
        ]
    )
    assert '<dt class="col-sm-2">发起人</dt><dd class="col-sm-10">每晚定时任务</dd>' in body
    assert '<dt class="col-sm-2">按县（市、区）分任务</dt><dd class="col-sm-10">否</dd>' in body
    assert "{&#x27;" not in body and "fan_out" not in body and "excluded_active" not in body


def test_the_dashboard_refresh_job_is_named_in_chinese():
    with translation.override("zh-hans"):
        assert jobs.kind_label("dashboards.refresh") == "刷新看板数据"
        job = Job(kind="dashboards.refresh", counts={"refreshed": 3, "warmed": 2})
        assert [str(label) for label, _value in job.labelled_counts] == [
            "重新计算的统计结果",
            "预先生成的默认看板",
        ]


def test_the_api_docs_lead_back_home(cast):
    client = Client()
    client.force_login(cast.admin)
    body = client.get("/api/v1/docs/").content.decode()
    assert (
        '<a href="/" style="color:#fff;font-weight:600;text-decoration:none">返回首页</a>' in body
    )
    assert "swagger-ui" in body
