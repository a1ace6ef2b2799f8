"""List browsing, export, runs pages and the enterprise panel: within the user's scope."""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import (
    LUCHENG,
    LUCHENG_STREET,
    make_census,
    make_enterprise,
    make_negative,
)

from .helpers import rebuild

pytestmark = pytest.mark.django_db


@pytest.fixture
def lists(cast):
    mine = make_enterprise(name="=HYPERLINK(1)平阳")
    make_census(mine, census_year=2023)
    theirs = make_enterprise(region=LUCHENG_STREET, name="鹿城企业")
    make_census(theirs, census_year=2023)
    blocked = make_enterprise(name="异常企业")
    make_census(blocked, census_year=2023)
    make_negative(blocked, listed_on=date(2025, 3, 2))
    runs = {"my_run": rebuild(), "their_run": rebuild(county=LUCHENG)}
    return {"mine": mine, "theirs": theirs, "blocked": blocked, **runs}


def test_the_list_page_shows_only_rows_in_scope(client, cast, lists):
    client.force_login(cast.staff)
    page = client.get(reverse("screening:index"), {"list": "active"})
    assert page.status_code == 200
    body = page.content.decode()
    assert lists["mine"].uscc in body and lists["theirs"].uscc not in body


def test_the_excluded_tab_shows_reasons_hints_and_filters_repairable(client, cast, lists):
    client.force_login(cast.staff)
    body = client.get(
        reverse("screening:index"), {"list": "excluded", "repairable": "true"}
    ).content.decode()
    assert lists["blocked"].uscc in body
    assert "2025-03-02" in body


def test_filters_narrow_the_list(client, cast, lists):
    client.force_login(cast.city_staff)
    body = client.get(
        reverse("screening:index"), {"list": "key_visit", "region": LUCHENG, "banks": "0"}
    ).content.decode()
    assert lists["theirs"].uscc in body and lists["mine"].uscc not in body


def test_the_export_is_scoped_and_neutralises_formulas(client, cast, lists):
    client.force_login(cast.staff)
    response = client.get(reverse("screening:export"), {"list": "active"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    usccs = [r[0] for r in rows[1:]]
    assert usccs == [lists["mine"].uscc]
    assert rows[1][1] == "'=HYPERLINK(1)平阳"
    assert len(rows[0]) == 11


def test_the_run_pages_render(client, cast, lists):
    client.force_login(cast.staff)
    assert client.get(reverse("screening:run_list")).status_code == 200
    run = lists["my_run"]
    assert client.get(reverse("screening:run_detail", args=[run.pk])).status_code == 200
    client.force_login(cast.outsider_staff)
    assert client.get(reverse("screening:run_detail", args=[run.pk])).status_code == 404


def test_the_enterprise_page_explains_each_list(client, cast, lists):
    client.force_login(cast.staff)
    body = client.get(reverse("enterprises:detail", args=[lists["blocked"].pk])).content.decode()
    assert "2025-03-02" in body
    assert "annual report" in body or "年度报告" in body or "年报" in body


def test_only_users_who_may_screen_can_rebuild(client, cast, lists):
    client.force_login(cast.regulator)
    assert client.post(reverse("screening:rebuild")).status_code == 404
    client.force_login(cast.staff)
    response = client.post(reverse("screening:rebuild"))
    assert response.status_code == 302
    client.force_login(cast.staff)
    assert client.post(reverse("screening:rebuild"), {"region": LUCHENG}).status_code == 404


def test_the_list_page_query_count_does_not_grow_with_rows(
    client, cast, lists, django_assert_max_num_queries
):
    for _ in range(5):
        firm = make_enterprise()
        make_census(firm, census_year=2023)
    rebuild()
    client.force_login(cast.staff)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("screening:index"), {"list": "key_visit"}).status_code == 200


def test_the_members_endpoint_query_count_does_not_grow_with_rows(
    client, cast, lists, django_assert_max_num_queries
):
    for _ in range(5):
        firm = make_enterprise()
        make_census(firm, census_year=2023)
    rebuild()
    client.force_login(cast.staff)
    with django_assert_max_num_queries(10):
        assert client.get("/api/v1/lists/members/", {"list_type": "active"}).status_code == 200


def test_an_unknown_region_code_rebuilds_nothing(client, cast):
    from core.models import Job

    client.force_login(cast.admin)
    response = client.post("/lists/rebuild/", {"region": "999999"})
    assert response.status_code == 404
    assert not Job.objects.filter(kind="screening.rebuild").exists()


def test_the_enterprise_page_of_a_run_without_an_as_of_date_opens(client, cast):
    from screening.models import ListMembership, ScreeningRun
    from tests.factories import PINGYANG, make_enterprise

    enterprise = make_enterprise()
    run = ScreeningRun.objects.create(region_id=PINGYANG, status="succeeded", is_current=True)
    ListMembership.objects.create(run=run, list_type="active", enterprise=enterprise)
    client.force_login(cast.staff)
    assert client.get(reverse("enterprises:detail", args=[enterprise.pk])).status_code == 200
