"""Scoped writes: every door saves in a transaction and re-checks the saved row's scope."""

import pytest
from django.urls import reverse
from rest_framework import mixins
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.choices import Role
from banks.models import BankAssignment
from core.api.viewsets import ScopedGenericViewSet
from core.writes import OutOfScope, scoped_save
from tests.factories import (
    LUCHENG,
    LUCHENG_STREET,
    PINGYANG,
    make_assignment,
    make_enterprise,
    make_user,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/bank-assignments/"


@pytest.fixture
def world(cast):
    mine = make_enterprise(name="昆阳五金厂")
    other_mine = make_enterprise(name="平阳鞋业")
    theirs = make_enterprise(region=LUCHENG_STREET, name="鹿城眼镜")
    return {
        "theirs_free": make_enterprise(region=LUCHENG_STREET, name="鹿城鞋厂"),
        "mine": mine,
        "other_mine": other_mine,
        "theirs": theirs,
        "my_assignment": make_assignment(mine, cast.bank),
        "their_assignment": make_assignment(theirs, cast.other_bank),
    }


@pytest.fixture
def bank_partner(cast):
    """A partner system of the cast's branch in 平阳县, allowed to allocate."""
    user = make_user(
        "bank_partner", Role.PARTNER, region=PINGYANG, bank=cast.bank, api_scopes="view,allocate"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_in_scope_create_update_and_delete_work(cast, world):
    api = client_for(cast.staff)
    created = api.post(URL, {"enterprise": world["other_mine"].pk, "bank": "PY-BR", "role": "lead"})
    assert created.status_code == 201
    pk = created.json()["id"]
    assert api.patch(f"{URL}{pk}/", {"role": "backup"}).status_code == 200
    assert BankAssignment.objects.get(pk=pk).role == "backup"
    assert api.delete(f"{URL}{pk}/").status_code == 204
    assert not BankAssignment.objects.filter(pk=pk).exists()


def test_staff_cannot_move_a_row_out_of_their_county(cast, world):
    api = client_for(cast.staff)
    row = world["my_assignment"]
    response = api.patch(f"{URL}{row.pk}/", {"enterprise": world["theirs_free"].pk})
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.enterprise_id == world["mine"].pk


def test_staff_cannot_create_a_row_outside_their_county(cast, world):
    api = client_for(cast.staff)
    before = BankAssignment.objects.count()
    response = api.post(URL, {"enterprise": world["theirs"].pk, "bank": "PY-BR", "role": "backup"})
    assert response.status_code == 403
    assert BankAssignment.objects.count() == before


def test_a_bank_scoped_token_cannot_hand_a_row_to_another_bank(cast, world, bank_partner):
    row = world["my_assignment"]
    assert bank_partner.get(f"{URL}{row.pk}/").status_code == 200
    response = bank_partner.patch(f"{URL}{row.pk}/", {"bank": cast.other_bank.pk})
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.bank_id == "PY-BR"


def test_a_bank_scoped_token_cannot_create_a_row_of_another_bank(cast, world, bank_partner):
    before = BankAssignment.objects.count()
    response = bank_partner.post(
        URL, {"enterprise": world["mine"].pk, "bank": cast.other_bank.pk, "role": "backup"}
    )
    assert response.status_code == 403
    assert BankAssignment.objects.count() == before


def test_a_bank_scoped_token_writes_its_own_banks_rows(cast, world, bank_partner):
    row = world["my_assignment"]
    assert bank_partner.patch(f"{URL}{row.pk}/", {"role": "backup"}).status_code == 200
    row.refresh_from_db()
    assert row.role == "backup"


# Whoever may allocate, a row outside their scope does not exist for them (404); whoever may
# not allocate is refused before that (403). Nothing is written either way.
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("staff", 404),
        ("township", 403),
        ("regulator", 403),
        ("officer", 403),
        ("partner", 403),
        ("bank_partner", 404),
        ("region_partner", 404),
    ],
)
def test_out_of_scope_rows_are_unwritable_for_every_role(cast, world, who, status):
    if who == "bank_partner":
        user = make_user("bp", Role.PARTNER, bank=cast.bank, api_scopes="view,allocate")
    elif who == "region_partner":
        user = make_user("rp", Role.PARTNER, region=PINGYANG, api_scopes="view,allocate")
    else:
        user = getattr(cast, who)
    api = client_for(user)
    row = world["their_assignment"]
    assert api.patch(f"{URL}{row.pk}/", {"role": "backup"}).status_code == status
    assert (
        api.put(
            f"{URL}{row.pk}/", {"enterprise": row.enterprise_id, "bank": "PY-BR", "role": "lead"}
        ).status_code
        == status
    )
    assert api.delete(f"{URL}{row.pk}/").status_code == status
    row.refresh_from_db()
    assert (row.role, row.bank_id) == ("lead", "RA-BR")


def test_rows_in_another_county_are_writable_by_its_own_staff(cast, world):
    api = client_for(cast.outsider_staff)
    row = world["their_assignment"]
    assert api.patch(f"{URL}{row.pk}/", {"role": "backup"}).status_code == 200


def test_scoped_save_rolls_back_a_change_that_leaves_the_scope(cast, world):
    row = world["my_assignment"]
    row.enterprise = world["theirs_free"]
    with pytest.raises(OutOfScope):
        scoped_save(cast.staff, "allocate", row)
    assert BankAssignment.objects.get(pk=row.pk).enterprise_id == world["mine"].pk


def test_a_viewset_that_would_skip_the_recheck_is_refused_at_import():
    with pytest.raises(TypeError):

        class Unsafe(mixins.UpdateModelMixin, ScopedGenericViewSet):
            pass


def test_the_admin_form_refuses_to_move_a_row_out_of_scope(cast, world, client):
    from django.contrib.auth.models import Permission

    staff = cast.staff
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_bankassignment", "change_bankassignment"])
    )
    client.force_login(staff)
    row = world["my_assignment"]
    url = reverse("admin:banks_bankassignment_change", args=[row.pk])
    response = client.post(
        url,
        {
            "enterprise": world["theirs_free"].pk,
            "bank": "PY-BR",
            "role": "lead",
            "status": "pending",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [str(OutOfScope.default_message)]
    row.refresh_from_db()
    assert row.enterprise_id == world["mine"].pk
    # Out of scope from the start: the admin has no such row for them.
    their_url = reverse("admin:banks_bankassignment_change", args=[world["their_assignment"].pk])
    assert client.get(their_url).status_code == 302  # "does not exist" redirect to the index


def test_outside_staff_see_nothing_of_another_county(cast, world):
    api = client_for(cast.staff)
    assert api.get(f"{URL}{world['their_assignment'].pk}/").status_code == 404
    listed = {row["id"] for row in api.get(URL).json()["results"]}
    assert listed == {world["my_assignment"].pk}
    assert LUCHENG  # both counties are in the test region table


def test_a_caller_without_the_action_is_refused_on_every_base_viewset(cast):
    reporter = make_user("reporter", Role.PARTNER, region=PINGYANG, api_scopes="report")
    api = client_for(reporter)
    assert api.get("/api/v1/enterprises/").status_code == 403
    assert api.get(URL).status_code == 403
    # The import API uses the same base: reading batches needs the import action too.
    response = client_for(cast.regulator).get("/api/v1/imports/")
    assert response.status_code == 403
    assert client_for(cast.staff).get("/api/v1/imports/").status_code == 200
