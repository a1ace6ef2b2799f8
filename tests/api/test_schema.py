"""The OpenAPI schema tells the truth: schemathesis drives every operation of /api/v1/schema/.

Bounded and derandomized so CI stays fast; run as an administrator and as a county's staff,
asserting no 5xx and no response that breaks the schema (issue 11 item 6).
"""

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from core.models import Job
from enterprises.models import ImportBatch, Region
from tests.dashboards.helpers import build_world
from tests.factories import PINGYANG
from tests.screening.helpers import rebuild

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def api_data(cast):
    """Rows of every kind the API serves, including the null references the schema must admit."""
    build_world(cast)
    rebuild()
    rebuild()  # a second run, so changes exist
    nightly = Job.objects.create(kind="screening.rebuild")  # nobody started it: no created_by
    ImportBatch.objects.create(kind="registry", file_name="cli.csv", file_sha256="0" * 64)
    ImportBatch.objects.create(
        kind="registry",
        file_name="web.csv",
        file_sha256="1" * 64,
        created_by=cast.staff,
        job=nightly,
    )
    return cast


@pytest.fixture
def keep_the_test_connection():
    """Calls go to the WSGI app, which would close the test's database connection after each
    request; Django's own test client unhooks the same handlers."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loading the schema needs no database: drf-spectacular builds it from the code.
# Django's own WSGI handler, not config.wsgi: that one also starts the web process's job
# thread, and the tests run jobs in the calling thread.
application = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
# Valid input, and input that breaks the schema on purpose (wrong types, NUL bytes, missing
# fields): the latter must be refused with a 4xx, never a 5xx (issue 10 item 6).
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)


BOUNDED = settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@pytest.mark.parametrize("role", ["admin", "staff"])
@BOUNDED
def test_every_operation_keeps_to_the_schema(case, role, api_data, keep_the_test_connection):
    user = getattr(api_data, role)
    token = Token.objects.get_or_create(user=user)[0].key
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


# Generated ids rarely name a real row; these calls read real rows of every detail operation.
DETAIL_ROWS = {
    "/api/v1/assignments/{id}/": "assignment",
    "/api/v1/bank-assignments/{id}/": "assignment",
    "/api/v1/banks/{code}/": "bank",
    "/api/v1/hand-offs/{id}/": "hand_off",
    "/api/v1/feedback/{id}/": "feedback",
    "/api/v1/credit-snapshots/{id}/": "credit",
    "/api/v1/enterprises/{id}/": "enterprise",
    "/api/v1/imports/{id}/": "batch",
    "/api/v1/jobs/{id}/": "job",
    "/api/v1/lists/excluded/{id}/": "exclusion",
    "/api/v1/lists/members/{id}/": "membership",
    "/api/v1/loans/{id}/": "loan",
    "/api/v1/regions/{code}/": "region",
    "/api/v1/screening/runs/{id}/": "run",
    "/api/v1/screening/runs/{id}/changes/": "run",
}
DETAIL_OPERATIONS = [
    result.ok()
    for result in schema.get_all_operations()
    if result.ok().method == "get" and "{" in result.ok().path
]


def test_every_detail_operation_has_a_real_row():
    assert {operation.path for operation in DETAIL_OPERATIONS} == set(DETAIL_ROWS)


@pytest.mark.parametrize("operation", DETAIL_OPERATIONS, ids=lambda o: o.path)
def test_real_rows_keep_to_the_schema(operation, cast, rows, keep_the_test_connection):
    rows.mine.update(region=Region.objects.get(code=PINGYANG), bank=cast.bank)
    obj = rows.mine[DETAIL_ROWS[operation.path]]
    name = re.search(r"{(\w+)}", operation.path).group(1)
    token = Token.objects.get_or_create(user=cast.staff)[0].key
    case = operation.Case(path_parameters={name: obj.pk})
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code == 200
    case.validate_response(response, checks=CHECKS)
