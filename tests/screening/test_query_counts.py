"""List pages, the runs pages and the export cost the same number of queries for 2 rows or 20."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_census, make_enterprise, make_negative

from .helpers import rebuild

pytestmark = pytest.mark.django_db


def populate(count):
    for i in range(count):
        active = make_enterprise(name=f"活跃{i}")
        make_census(active, census_year=2023)
        blocked = make_enterprise(name=f"异常{i}")
        make_negative(blocked, listed_on=date(2025, 3, 2))
    first = rebuild()
    for i in range(count):  # a second run with changes, so the run page lists a diff
        make_census(make_enterprise(name=f"新{i}"), census_year=2023)
    return first, rebuild()


def queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


PAGES = [
    ("screening:index", {"list": "active"}),
    ("screening:index", {"list": "key_visit"}),
    ("screening:index", {"list": "excluded"}),
    ("screening:export", {"list": "active"}),
    ("screening:run_list", {}),
]


@pytest.mark.parametrize("name, params", PAGES)
def test_list_pages_do_not_query_per_row(client, cast, name, params):
    client.force_login(cast.staff)
    populate(2)
    few = queries(client, reverse(name), params)
    populate(20)
    assert queries(client, reverse(name), params) == few


def test_run_page_does_not_query_per_change(client, cast):
    client.force_login(cast.staff)
    _first, second = populate(2)
    few = queries(client, reverse("screening:run_detail", args=[second.pk]))
    _first, second = populate(20)
    assert queries(client, reverse("screening:run_detail", args=[second.pk])) == few
