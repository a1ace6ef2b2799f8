"""Every page of bank matching, the workspace and the change history, opened as each role."""

import pytest

pytestmark = pytest.mark.django_db

ROLES = ["staff", "city_staff", "township", "regulator", "officer", "outsider_staff", "partner"]
ROLES += ["admin"]

# url → {role: status}: staff pages for staff, the workspace for bank officers, the history
# for administrators; a role that may not use a page is refused, never shown data.
PAGES = {
    "/banks/workspace/": {"officer": 200, "*": 403},
    "/banks/attention/": {
        "staff": 200,
        "city_staff": 200,
        "outsider_staff": 200,
        "admin": 200,
        "*": 403,
    },
    "/banks/matching/": {
        "staff": 200,
        "city_staff": 200,
        "outsider_staff": 200,
        "admin": 200,
        "regulator": 200,
        "partner": 200,
        "*": 404,
    },
    "/history/": {"admin": 200, "*": 403},
}


@pytest.mark.parametrize("url", PAGES)
def test_each_role_gets_the_one_right_answer(client, cast, url):
    expected = {role: PAGES[url].get(role, PAGES[url]["*"]) for role in ROLES}
    actual = {}
    for role in ROLES:
        client.force_login(getattr(cast, role))
        actual[role] = client.get(url).status_code
    assert actual == expected
