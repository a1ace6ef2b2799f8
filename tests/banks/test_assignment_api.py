"""/api/v1/assignments/ and /api/v1/hand-offs/: the partner banks' contract, and scoping."""

from datetime import date

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.choices import Role
from banks.choices import AssignmentStatus
from banks.models import BankAssignment
from tests.factories import LUCHENG_STREET, PINGYANG, make_bank, make_enterprise, make_user

from .pairs import make_pair

pytestmark = pytest.mark.django_db

URL = "/api/v1/assignments/"


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def world(cast):
    ours, theirs = make_pair(cast.bank, cast.other_bank, due_on=date(2099, 1, 2))
    other_lead, other_backup = make_pair(cast.other_bank, cast.bank, due_on=date(2099, 1, 3))
    third = make_bank(code="ZS", name="浙商银行", level="legal_person")
    elsewhere = make_pair(
        third, cast.other_bank, due_on=date(2099, 1, 4), enterprise=make_enterprise(LUCHENG_STREET)
    )
    token = make_user("py-bank", Role.PARTNER, bank=cast.bank, api_scopes="view,report")
    return {
        "ours": ours,
        "theirs": theirs,
        "other_lead": other_lead,
        "other_backup": other_backup,
        "elsewhere": elsewhere,
        "token": token,
    }


def test_staff_see_one_item_per_enterprise_and_role_of_their_region(cast, world):
    response = token_client(cast.staff).get(URL, {"region": PINGYANG})
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 4 and "next" in data
    first = data["results"][0]
    ours = world["ours"]
    assert first == {
        "id": ours.pk,
        "enterprise_uscc": ours.enterprise.uscc,
        "enterprise_name": ours.enterprise.name,
        "role": "lead",
        "bank_code": "PY-BR",
        "institution_code": "PY-HEAD",
        "status": "pending",
        "due_on": "2099-01-02",
        "materials_complete_on": None,
        "decision_due_on": None,
        "decided_on": None,
        "assigned_at": first["assigned_at"],
    }
    assert data["results"][1]["institution_code"] == "RA-BR"  # a legal person is its own root
    # 鹿城区 staff see only theirs; the region filter narrows an admin's view
    assert token_client(cast.outsider_staff).get(URL).json()["count"] == 2
    assert token_client(cast.admin).get(URL, {"region": "330302"}).json()["count"] == 2


def test_the_list_is_paginated(cast, world):
    for _ in range(22):
        make_pair(cast.bank, cast.other_bank, due_on=date(2099, 1, 5))
    client = token_client(cast.admin)
    data = client.get(URL).json()
    assert data["count"] == 50 and data["next"] is None
    make_pair(cast.bank, cast.other_bank, due_on=date(2099, 1, 5))
    data = client.get(URL).json()
    assert data["count"] == 52 and len(data["results"]) == 50
    rest = client.get(data["next"]).json()
    assert len(rest["results"]) == 2 and rest["next"] is None


def test_a_bank_token_sees_only_its_own_assignments(cast, world):
    client = token_client(world["token"])
    data = client.get(URL, {"region": PINGYANG}).json()
    assert sorted(item["id"] for item in data["results"]) == sorted(
        [world["ours"].pk, world["other_backup"].pk]
    )
    assert {item["bank_code"] for item in data["results"]} == {"PY-BR"}
    assert client.get(f"{URL}{world['theirs'].pk}/").status_code == 404
    officer = token_client(cast.officer).get(URL).json()
    assert {item["bank_code"] for item in officer["results"]} == {"PY-BR"}


def test_a_bank_token_answers_its_own_and_not_another_banks(cast, world):
    client = token_client(world["token"])
    ours, theirs = world["ours"], world["theirs"]

    response = client.post(f"{URL}{ours.pk}/feedback/", {"status": "accepted", "reason": "已受理"})
    assert response.status_code == 201
    assert response.json()["status"] == "accepted"
    ours.refresh_from_db()
    assert ours.status == AssignmentStatus.ACCEPTED

    response = client.post(f"{URL}{theirs.pk}/feedback/", {"status": "contacted"})
    assert response.status_code == 404
    assert BankAssignment.objects.get(pk=theirs.pk).status == AssignmentStatus.WAITING


def test_validation_errors_name_the_field(cast, world):
    client = token_client(world["token"])
    url = f"{URL}{world['ours'].pk}/feedback/"
    response = client.post(url, {"status": "declined"})
    assert response.status_code == 400
    assert sorted(response.json()) == ["decline_reason", "reason"]
    response = client.post(url, {"status": "handed_off"})
    assert response.status_code == 400
    assert list(response.json()) == ["status"]
    # a standing-by backup has nothing to answer yet
    response = client.post(f"{URL}{world['other_backup'].pk}/feedback/", {"status": "contacted"})
    assert response.status_code == 400
    assert list(response.json()) == ["status"]


def test_a_view_only_token_and_staff_may_not_answer(cast, world):
    viewer = make_user("py-view", Role.PARTNER, bank=cast.bank, api_scopes="view")
    url = f"{URL}{world['ours'].pk}/feedback/"
    # Without the report right the API answers 403 (core.api.viewsets); an admin holds every
    # right but belongs to no bank, and only a bank answers for its enterprises.
    assert token_client(viewer).post(url, {"status": "contacted"}).status_code == 403
    assert token_client(cast.staff).post(url, {"status": "contacted"}).status_code == 403
    assert token_client(cast.admin).post(url, {"status": "contacted"}).status_code == 403


def test_hand_offs_show_a_bank_only_its_own_side(cast, world):
    client = token_client(world["token"])
    client.post(
        f"{URL}{world['ours'].pk}/feedback/",
        {"status": "declined", "decline_reason": "not_eligible", "reason": "不符合"},
    )

    data = client.get("/api/v1/hand-offs/").json()
    assert data["count"] == 1
    item = data["results"][0]
    assert (
        item["enterprise_uscc"],
        item["from_role"],
        item["handed_to_backup"],
        item["cause"],
    ) == (
        world["ours"].enterprise.uscc,
        "lead",
        True,
        "declined",
    )
    ra = make_user("ra-bank", Role.PARTNER, bank=make_bank(code="OTHER"), api_scopes="view")
    assert token_client(ra).get("/api/v1/hand-offs/").json()["count"] == 0
    assert token_client(cast.staff).get("/api/v1/hand-offs/").json()["count"] == 1
