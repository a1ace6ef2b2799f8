"""Odd input answers a clean 400 with a message, never a 500 (issue 10 item 6).

Each test goes through the door the probe used: NUL bytes in paths, query parameters, form
fields and JSON bodies; dates in year 1 or 9999; JSON bodies that are not objects.
"""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.models import Job
from tests.screening.helpers import rebuild

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "The request contains characters that are not allowed (control characters)."
NUL_MESSAGE_ZH = "请求中含有不允许的字符（控制字符）。"


def page_client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def api_client(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def assert_page_400(response, text=NUL_MESSAGE):
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert text in response.content.decode()


def assert_api_400(response, text=NUL_MESSAGE):
    assert response.status_code == 400
    assert response.json() == {"detail": text}


@pytest.mark.parametrize(
    "url",
    ["/jobs/?status=%00", "/enterprises/imports/?kind=%00", "/jobs/?%00=queued"],
)
def test_a_nul_in_a_page_query_is_a_styled_400(cast, url):
    response = page_client(cast.staff).get(url)
    assert_page_400(response)
    assert '<nav class="navbar' in response.content.decode()  # the site's own page


def test_the_nul_message_is_translated(cast):
    client = Client()  # default language: zh-hans
    client.force_login(cast.staff)
    assert_page_400(client.get("/jobs/?status=%00"), NUL_MESSAGE_ZH)
    api = APIClient()
    api.force_authenticate(cast.staff)
    assert_api_400(api.get("/api/v1/banks/%00/"), NUL_MESSAGE_ZH)


@pytest.mark.parametrize("url", ["/api/v1/banks/%00/", "/api/v1/regions/%00/"])
def test_a_nul_in_an_api_path_is_a_json_400(cast, url):
    assert_api_400(api_client(cast.staff).get(url))


@pytest.mark.parametrize("field", ["list_type", "change"])
def test_a_nul_in_the_run_changes_filters_is_a_400(cast, field):
    run = rebuild()
    response = api_client(cast.staff).get(
        f"/api/v1/screening/runs/{run.pk}/changes/", {field: "\x00"}
    )
    assert_api_400(response)


def test_a_nul_in_a_posted_form_field_is_a_400(cast):
    client = page_client(cast.staff)
    body = "region=330326%00"
    encoded = "application/x-www-form-urlencoded"
    assert_page_400(client.post("/lists/rebuild/", body, content_type=encoded))
    assert_page_400(client.post("/lists/rebuild/", {"region": "330326\x00"}))  # multipart


def test_a_nul_in_a_json_body_is_a_400(cast):
    response = api_client(cast.staff).post(
        "/api/v1/screening/runs/", {"region": "330326\x00"}, format="json"
    )
    assert_api_400(response)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[]", "The request body must be a JSON object."),
        ('"x"', "The request body must be a JSON object."),
        ("null", "The request body must be a JSON object."),
        ("1e99999", "A number in the request body is too large."),
        ('{"region": 1e99999}', "A number in the request body is too large."),
        ('{"region": NaN}', "A number in the request body is not finite."),
        ("{", "The request body is not valid JSON."),
    ],
)
def test_a_json_body_that_is_not_an_object_is_a_400(cast, body, message):
    response = api_client(cast.staff).post(
        "/api/v1/screening/runs/", body, content_type="application/json"
    )
    assert_api_400(response, message)


DATE_MESSAGE = "Give a date between 1900-01-01 and 2099-12-31."


@pytest.mark.parametrize(
    "period",
    [
        {"start": "0001-01-01", "end": "0001-12-31"},
        {"start": "9999-01-01", "end": "9999-12-31"},
        {"start": "2025-01-01", "end": "9999-12-31"},
        {"end": "0001-06-30"},
    ],
)
def test_dates_out_of_range_are_a_400_on_every_dashboard_door(cast, period):
    page = page_client(cast.staff).get("/dashboards/", period)
    assert page.status_code == 400
    assert DATE_MESSAGE in page.content.decode()
    export = page_client(cast.staff).get("/dashboards/export/region.xlsx", period)
    assert export.status_code == 400
    assert DATE_MESSAGE in json.dumps(export.json(), ensure_ascii=False)
    api = api_client(cast.staff).get("/api/v1/stats/", period)
    assert api.status_code == 400
    assert DATE_MESSAGE in json.dumps(api.json())


def test_ordinary_text_still_passes(cast):
    """Tabs and line breaks are not control characters here; Chinese text passes as is."""
    client = page_client(cast.staff)
    assert client.get("/jobs/", {"status": "queued"}).status_code == 200
    assert client.get("/enterprises/", {"q": "温州\t银行"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"region": "999999"}, "Unknown region code: 999999."),
        ({"region": ["330326"]}, "Not a valid string."),
    ],
)
def test_an_unknown_region_is_a_400_not_a_rebuild_of_every_county(cast, body, message):
    response = api_client(cast.admin).post("/api/v1/screening/runs/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"region": [message]}
    assert not Job.objects.filter(kind="screening.rebuild").exists()


def test_no_region_still_means_the_callers_own(cast):
    for body in ({}, {"region": ""}, {"region": None}):
        response = api_client(cast.staff).post("/api/v1/screening/runs/", body, format="json")
        assert response.status_code == 202
        assert response.json()["region"] == cast.staff.region_id
