"""The API contract over every endpoint and every role (issue 11 item 6; NetBox's
utilities/testing/api.py is the model).

Cases are generated from the URL patterns of /api/v1/ (config/api_urls.py): each endpoint and
method needs a case in CASES, so a new endpoint fails ``test_every_endpoint_has_a_case`` until it
is described. For every role of the cast, and anonymous callers:

- anonymous: 403 (session authentication comes first, so DRF sends no WWW-Authenticate and
  answers 403, never 401);
- a role or token without the action the endpoint needs: 403;
- a row outside the caller's scope: 404;
- inside the scope: 200 (202 for writes that queue a job), under a fixed number of queries.

Which rows are inside a scope is decided by ``restrict(user, action)`` itself, so the API must
agree with the one scoping rule; the staff of 平阳县 pins the answers explicitly too.
"""

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from dashboards.forms import region_in_scope
from enterprises.models import Region
from tests.factories import LUCHENG, PINGYANG

pytestmark = pytest.mark.django_db

CAST_ROLES = [
    "staff",
    "city_staff",
    "township",
    "regulator",
    "officer",
    "outsider_staff",
    "partner",
    "admin",
]
# Public documentation of the API, not part of its contract.
NOT_ENDPOINTS = {"api-schema", "api-docs", "api-redoc"}


def api_endpoints():
    """(url name, method) of every view under /api/v1/, read from the URL patterns."""

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            else:
                yield pattern

    found = set()
    for pattern in walk(get_resolver("config.api_urls").url_patterns):
        if pattern.name in NOT_ENDPOINTS:
            continue
        callback = pattern.callback
        actions = getattr(callback, "actions", None)  # viewsets: {"get": "list", ...}
        if actions:
            methods = actions.keys()
        else:
            methods = [m for m in callback.cls.http_method_names if hasattr(callback.cls, m)]
        # HEAD and OPTIONS answer as GET does (DRF adds "head" to a viewset on its first call).
        found.update((pattern.name, m) for m in methods if m not in ("head", "options"))
    return found


@dataclass
class Read:
    """A GET endpoint. ``row``: key in ``rows.mine`` / ``rows.theirs`` of its object (detail
    endpoints); ``max_queries``: for an in-scope answer."""

    action: str = "view"
    row: str | None = None
    max_queries: int = 4
    pk: str = "pk"
    reference_data: bool = False  # every signed-in reader sees every row


@dataclass
class Write:
    """A POST endpoint; ``request(rows, theirs)`` gives (data, format) for an in-scope or an
    out-of-scope request; ``out_of_scope=False`` when a create names no row outside a scope
    (an upload's rows outside the region are row errors, tested with the importer)."""

    action: str
    request: object
    out_of_scope: bool = True
    max_queries: int = 12
    status: int = 202


def upload(rows, theirs):
    csv = "统一社会信用代码,主体名称,成立日期,登记状态,所在地区划代码\n".encode()
    data = {
        "kind": "registry",
        "dry_run": "true",
        "file": SimpleUploadedFile("registry.csv", csv, content_type="text/csv"),
    }
    return data, "multipart"


def rebuild_request(rows, theirs):
    return {"region": LUCHENG if theirs else PINGYANG}, "json"


CASES = {
    ("job-list", "get"): Read(),
    ("job-detail", "get"): Read(row="job"),
    ("region-list", "get"): Read(),
    ("region-detail", "get"): Read(row="region", reference_data=True),
    ("enterprise-list", "get"): Read(),
    ("enterprise-detail", "get"): Read(row="enterprise"),
    # the list first settles batches whose job died (one UPDATE): enterprises.services.uploads
    ("importbatch-list", "get"): Read(action="import", max_queries=5),
    # an upload: the batch, its job and the re-check of both (core/writes.py)
    ("importbatch-list", "post"): Write(
        action="import", request=upload, out_of_scope=False, max_queries=16
    ),
    ("importbatch-detail", "get"): Read(action="import", row="batch"),
    ("bank-list", "get"): Read(),
    ("bank-detail", "get"): Read(row="bank", reference_data=True),
    ("loan-list", "get"): Read(),
    ("loan-detail", "get"): Read(row="loan"),
    ("creditsnapshot-list", "get"): Read(),
    ("creditsnapshot-detail", "get"): Read(row="credit"),
    ("list-member-list", "get"): Read(),
    ("list-member-summary", "get"): Read(),
    ("list-member-detail", "get"): Read(row="membership"),
    ("list-excluded-list", "get"): Read(),
    ("list-excluded-detail", "get"): Read(row="exclusion"),
    ("screening-run-list", "get"): Read(),
    ("screening-run-list", "post"): Write(action="screen", request=rebuild_request),
    ("screening-run-detail", "get"): Read(row="run"),
    ("screening-run-changes", "get"): Read(row="run"),
    ("stats", "get"): Read(row="stats_region", max_queries=8),
    ("bankassignment-list", "get"): Read(),
    ("bankassignment-detail", "get"): Read(row="assignment"),
    ("assignment-list", "get"): Read(),
    ("assignment-detail", "get"): Read(row="assignment"),
    ("hand-off-list", "get"): Read(),
    ("hand-off-detail", "get"): Read(row="hand_off"),
    ("feedback-list", "get"): Read(),
    ("feedback-detail", "get"): Read(row="feedback"),
}

# Writes on one row (or an action on it): their every-role answers are pinned where the row's
# rules live, named here so a new endpoint still needs a case somewhere.
WRITES_TESTED_ELSEWHERE = {
    ("bankassignment-list", "post"): "tests/core/test_scoped_writes.py",
    ("bankassignment-detail", "put"): "tests/core/test_scoped_writes.py",
    ("bankassignment-detail", "patch"): "tests/core/test_scoped_writes.py",
    ("bankassignment-detail", "delete"): "tests/core/test_scoped_writes.py",
    ("assignment-feedback", "post"): "tests/banks/test_assignment_api.py",
}


def test_every_endpoint_has_a_case():
    assert api_endpoints() == set(CASES) | set(WRITES_TESTED_ELSEWHERE)


def client_for(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def the_users(cast, no_view, importer):
    return {
        "anonymous": None,
        **{r: getattr(cast, r) for r in CAST_ROLES},
        "no_view": no_view,
        "importer": importer,
    }


def row_of(rows, name, theirs):
    """The object of a detail case, inside the staff's scope or outside it."""
    side = rows.theirs if theirs else rows.mine
    return side[name]


def read_url(url_name, case, obj):
    if case.row is None:
        return reverse(url_name), {}
    if url_name == "stats":
        return reverse(url_name), {"region": obj.code}
    return reverse(url_name, kwargs={"pk": obj.pk}), {}


def expected_read(user, case, obj):
    """The one right answer, derived from the scoping rule."""
    if user is None or not user.scope.allows(case.action):
        return 403
    if obj is None:
        return 200
    if isinstance(obj, Region) and not case.reference_data:  # stats: figures of a region
        return 200 if region_in_scope(user, obj) else 404
    visible = type(obj).objects.restrict(user, case.action).filter(pk=obj.pk).exists()
    return 200 if visible else 404


def objects(cast, rows):
    """Reference rows (one per side) next to the scoped rows of ``rows``."""
    for side, code, bank in (
        (rows.mine, PINGYANG, cast.bank),
        (rows.theirs, LUCHENG, cast.other_bank),
    ):
        side["region"] = Region.objects.get(code=code)
        side["stats_region"] = side["region"]
        side["bank"] = bank


READS = sorted(key for key, case in CASES.items() if isinstance(case, Read))
WRITES = sorted(key for key, case in CASES.items() if isinstance(case, Write))


@pytest.mark.parametrize(("url_name", "method"), READS, ids=[f"{n} {m}" for n, m in READS])
def test_every_role_gets_the_one_right_answer_on_reads(
    url_name, method, cast, rows, no_view, importer, django_assert_max_num_queries
):
    case = CASES[url_name, method]
    objects(cast, rows)
    users = the_users(cast, no_view, importer)
    sides = [False] if case.row is None else [False, True]
    expected, actual = {}, {}
    for theirs in sides:
        obj = None if case.row is None else row_of(rows, case.row, theirs)
        url, query = read_url(url_name, case, obj)
        for role, user in users.items():
            key = f"{role} {'theirs' if theirs else 'mine'}"
            expected[key] = expected_read(user, case, obj)
            actual[key] = client_for(user).get(url, query).status_code
    assert actual == expected
    # The pinned answers for the county's staff, whatever restrict() says.
    assert expected["staff mine"] == 200 and expected["anonymous mine"] == 403
    assert expected["no_view mine"] == 403
    if len(sides) == 2 and not case.reference_data:
        assert expected["staff theirs"] == 404
    # In scope: a fixed number of queries, however many rows (no query per row).
    obj = None if case.row is None else row_of(rows, case.row, False)
    url, query = read_url(url_name, case, obj)
    for role in ("staff", "admin"):
        client = client_for(users[role])
        with django_assert_max_num_queries(case.max_queries):
            assert client.get(url, query).status_code == 200


@pytest.mark.parametrize(("url_name", "method"), WRITES, ids=[f"{n} {m}" for n, m in WRITES])
def test_every_role_gets_the_one_right_answer_on_writes(
    url_name, method, cast, rows, no_view, importer, django_assert_max_num_queries
):
    case = CASES[url_name, method]
    url = reverse(url_name)
    users = the_users(cast, no_view, importer)
    expected, actual = {}, {}
    for theirs in [False, True] if case.out_of_scope else [False]:
        target = LUCHENG if theirs else PINGYANG
        for role, user in users.items():
            key = f"{role} {'theirs' if theirs else 'mine'}"
            if user is None or not user.scope.allows(case.action):
                expected[key] = 403
            elif case.out_of_scope and not (
                user.scope.everything or target.startswith(user.scope.region_prefix or "")
            ):
                expected[key] = 404
            else:
                expected[key] = case.status
            data, fmt = case.request(rows, theirs)
            actual[key] = client_for(user).post(url, data, format=fmt).status_code
    assert actual == expected
    assert expected["staff mine"] == case.status and expected["regulator mine"] == 403
    assert expected["anonymous mine"] == 403 and expected["no_view mine"] == 403
    if case.out_of_scope:
        assert expected["staff theirs"] == 404
    data, fmt = case.request(rows, False)
    client = client_for(cast.staff)
    with django_assert_max_num_queries(case.max_queries):
        assert client.post(url, data, format=fmt).status_code == case.status
