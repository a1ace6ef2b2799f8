"""REST API: lists and members (filterable, scoped), exclusions, runs and their diffs."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from core.models import Job
from tests.factories import LUCHENG, LUCHENG_STREET, make_census, make_enterprise, make_negative

from .helpers import rebuild

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def data(cast):
    mine = make_enterprise()
    make_census(mine, census_year=2023)
    theirs = make_enterprise(region=LUCHENG_STREET)
    make_census(theirs, census_year=2023)
    first = rebuild()
    blocked = make_enterprise()
    make_census(blocked, census_year=2023)
    make_negative(mine, listed_on=date(2025, 3, 2))
    return {
        "mine": mine,
        "theirs": theirs,
        "blocked": blocked,
        "first": first,
        "run": rebuild(),
        "their_run": rebuild(county=LUCHENG),
    }


def test_anonymous_callers_are_refused(api, data):
    response = api.get("/api/v1/lists/members/")
    # Session authentication comes first, and it asks for no credentials: 403, not 401.
    assert response.status_code == 403
    assert response.data["detail"].code == "not_authenticated"


def test_members_are_scoped_and_filterable(api, cast, data):
    api.force_authenticate(cast.staff)
    body = api.get("/api/v1/lists/members/", {"list_type": "active"}).json()
    assert [m["uscc"] for m in body["results"]] == [data["blocked"].uscc]
    assert body["results"][0]["reasons"][0]["code"] == "in_operation"
    # A region outside the caller's area is refused in words, not answered with an empty page.
    other = api.get("/api/v1/lists/members/", {"list_type": "active", "region": LUCHENG})
    assert other.status_code == 400
    assert other.json() == {"region": [f"{LUCHENG} 不是您所辖范围内的地区。"]}


def test_summary_counts_each_list(api, cast, data):
    api.force_authenticate(cast.staff)
    summary = {r["list_type"]: r["count"] for r in api.get("/api/v1/lists/members/summary/").json()}
    assert summary["active"] == 1 and summary["reserve"] == 0


def test_excluded_lists_reasons_and_repairable(api, cast, data):
    api.force_authenticate(cast.staff)
    body = api.get("/api/v1/lists/excluded/", {"repairable": "true"}).json()
    assert [r["uscc"] for r in body["results"]] == [data["mine"].uscc]
    assert body["results"][0]["reasons"][0]["on"] == "2025-03-02"


def test_runs_and_their_changes(api, cast, data):
    api.force_authenticate(cast.staff)
    run = data["run"]
    changes = api.get(f"/api/v1/screening/runs/{run.pk}/changes/", {"list_type": "active"}).json()
    got = {(c["uscc"], c["change"]) for c in changes["results"]}
    assert got == {(data["mine"].uscc, "left"), (data["blocked"].uscc, "entered")}
    assert api.get(f"/api/v1/screening/runs/{data['their_run'].pk}/").status_code == 404


def test_starting_a_rebuild_needs_the_screen_action(api, cast, data):
    api.force_authenticate(cast.regulator)
    # The regulator sees the runs but may not start one: no permission is 403.
    response = api.post("/api/v1/screening/runs/", {})
    assert response.status_code == 403
    assert not Job.objects.exists()
    api.force_authenticate(cast.staff)
    response = api.post("/api/v1/screening/runs/", {})
    assert response.status_code == 202
    assert response.json()["kind"] == "screening.rebuild"
