"""The one scoping rule: each role sees its own region or branch, by UI and by API."""

import pytest
from django.urls import reverse

from enterprises.models import Enterprise
from loans.models import Loan
from tests.factories import (
    LUCHENG_STREET,
    PINGYANG_TOWN,
    make_assignment,
    make_enterprise,
    make_loan,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast):
    """One enterprise in 平阳 昆阳镇 (assigned to the cast's branch), one in 平阳 another
    township, one in 鹿城 with a loan from the other bank."""
    town = make_enterprise(region=PINGYANG_TOWN, name="昆阳五金厂")
    county = make_enterprise(region="330326101", name="平阳鞋业")
    lucheng = make_enterprise(region=LUCHENG_STREET, name="鹿城眼镜")
    make_assignment(town, cast.bank)
    make_loan(lucheng, cast.other_bank)
    return {"town": town, "county": county, "lucheng": lucheng}


def visible(user):
    return set(Enterprise.objects.restrict(user).values_list("name", flat=True))


def test_county_staff_see_their_county_only(cast, world):
    assert visible(cast.staff) == {"昆阳五金厂", "平阳鞋业"}


def test_city_staff_see_the_whole_city(cast, world):
    assert visible(cast.city_staff) == {"昆阳五金厂", "平阳鞋业", "鹿城眼镜"}


def test_township_worker_sees_their_township_only(cast, world):
    assert visible(cast.township) == {"昆阳五金厂"}


def test_bank_officer_sees_enterprises_of_their_branch_only(cast, world):
    assert visible(cast.officer) == {"昆阳五金厂"}


def test_bank_officer_sees_only_their_banks_loans(cast, world):
    make_loan(world["town"], cast.bank)
    make_loan(world["town"], cast.other_bank)
    assert set(Loan.objects.restrict(cast.officer).values_list("bank_id", flat=True)) == {"PY-BR"}


def test_regulator_reads_but_cannot_change(cast, world):
    assert visible(cast.regulator) == {"昆阳五金厂", "平阳鞋业"}
    assert not Enterprise.objects.restrict(cast.regulator, "change").exists()


def test_admin_sees_everything(cast, world):
    assert len(visible(cast.admin)) == 3


def test_user_without_region_or_bank_sees_nothing(cast, world):
    from accounts.choices import Role
    from tests.factories import make_user

    lost = make_user("lost", Role.TASK_FORCE)
    assert visible(lost) == set()


def test_out_of_scope_enterprise_page_is_404(client, cast, world):
    client.force_login(cast.staff)
    assert client.get(reverse("enterprises:detail", args=[world["county"].pk])).status_code == 200
    assert client.get(reverse("enterprises:detail", args=[world["lucheng"].pk])).status_code == 404


def test_enterprise_list_page_shows_only_the_scope(client, cast, world):
    client.force_login(cast.outsider_staff)
    body = client.get(reverse("enterprises:list")).content.decode()
    assert "鹿城眼镜" in body
    assert "平阳鞋业" not in body


def test_api_hides_out_of_scope_rows(client, cast, world):
    client.force_login(cast.township)
    data = client.get("/api/v1/enterprises/").json()
    assert [row["name"] for row in data["results"]] == ["昆阳五金厂"]
    assert client.get(f"/api/v1/enterprises/{world['county'].pk}/").status_code == 404


def test_api_needs_authentication(client, world):
    response = client.get("/api/v1/enterprises/")
    assert response.status_code == 403
    assert response.json()["detail"] == "身份认证信息未提供。"


def test_partner_token_reads_its_region(client, cast, world):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=cast.partner)
    response = client.get("/api/v1/enterprises/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert {row["name"] for row in response.json()["results"]} == {"昆阳五金厂", "平阳鞋业"}


def test_personal_data_is_masked_for_regulators(client, cast, world):
    client.force_login(cast.regulator)
    row = client.get(f"/api/v1/enterprises/{world['town'].pk}/").json()
    assert row["legal_rep"] == "张**"
    assert row["phone"] == "*******5678"


def test_personal_data_is_shown_to_task_force(client, cast, world):
    client.force_login(cast.staff)
    row = client.get(f"/api/v1/enterprises/{world['town'].pk}/").json()
    assert row["phone"] == "13812345678"


def test_home_page_describes_each_roles_scope(client, cast, world):
    client.force_login(cast.township)
    body = client.get(reverse("home")).content.decode()
    assert "昆阳镇" in body


def test_enterprise_list_queries_do_not_grow_with_rows(client, cast, django_assert_max_num_queries):
    for _ in range(30):
        make_enterprise(region=PINGYANG_TOWN)
    client.force_login(cast.staff)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("enterprises:list")).status_code == 200


def test_enterprise_api_queries_do_not_grow_with_rows(client, cast, django_assert_max_num_queries):
    for _ in range(30):
        make_enterprise(region=PINGYANG_TOWN)
    client.force_login(cast.staff)
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/enterprises/").status_code == 200
