"""On the embedded SQLite default, dashboards say they need PostgreSQL instead of failing."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_dashboard_page_explains_it_needs_postgresql(client, cast, settings):
    settings.IS_POSTGRES = False
    client.force_login(cast.staff)
    response = client.get(reverse("dashboards:index"))
    assert response.status_code == 503
    assert "DATABASE_URL" in response.content.decode()


def test_stats_api_answers_503_without_postgresql(client, cast, settings):
    settings.IS_POSTGRES = False
    client.force_login(cast.staff)
    response = client.get("/api/v1/stats/")
    assert response.status_code == 503
    assert response.json()["detail"]
