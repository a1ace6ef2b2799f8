"""The application shell: regions, API docs, vendored assets, health, demo data."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from enterprises.models import Region

pytestmark = pytest.mark.django_db

REGIONS_CSV = Path(settings.BASE_DIR) / "data" / "regions-wenzhou.csv"


def test_loading_regions_twice_changes_nothing(capsys):
    call_command("load_regions", str(REGIONS_CSV))
    first = list(Region.objects.values_list("code", "name", "level", "parent_id"))
    call_command("load_regions", str(REGIONS_CSV))
    assert "0 created, 0 updated" in capsys.readouterr().out
    assert list(Region.objects.values_list("code", "name", "level", "parent_id")) == first
    assert Region.objects.get(code="330326").parent_id == "330300"
    assert Region.objects.get(code="330326100").scope_prefix == "330326100"
    assert Region.objects.get(code="330300").scope_prefix == "3303"


def test_the_openapi_schema_and_docs_are_served(client, cast):
    client.force_login(cast.staff)
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/enterprises/" in schema.content
    docs = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in docs
    assert not re.search(r"""(src|href)=["']https?://""", docs), "docs must not load from a CDN"


def test_templates_load_no_assets_from_the_internet():
    offenders = []
    for path in Path(settings.BASE_DIR).glob("**/templates/**/*.html"):
        if ".venv" in path.parts:
            continue
        if re.search(r"""(src|href)=["']https?://""", path.read_text(encoding="utf-8")):
            offenders.append(str(path))
    assert offenders == []


def test_health_check_answers(client):
    assert client.get("/healthz").content == b"ok"


def test_pages_need_a_login(client):
    response = client.get("/enterprises/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_navigation_follows_the_role(client, cast):
    # Full matrix in tests/core/test_ui_shell.py: here, that the menu differs by role at all.
    client.force_login(cast.regulator)
    body = client.get("/").content.decode()
    assert 'href="/dashboards/"' in body and 'href="/jobs/"' not in body
    client.force_login(cast.staff)
    assert 'href="/enterprises/"' in client.get("/").content.decode()
