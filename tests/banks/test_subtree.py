"""A bank's subtree (its officers' scope) in one recursive query, even on a parent cycle."""

import pytest
from django.urls import reverse

from accounts.choices import Role
from banks.models import SUBTREE_MAX_DEPTH, Bank
from tests.factories import make_bank, make_enterprise, make_loan, make_user

pytestmark = pytest.mark.django_db


def test_the_subtree_holds_every_branch_below_in_one_query(django_assert_num_queries):
    head = make_bank(code="HEAD")
    branch = make_bank(code="BR-1", parent=head)
    make_bank(code="SUB-1", parent=branch)
    make_bank(code="SUB-2", parent=branch)
    make_bank(code="OTHER")
    with django_assert_num_queries(1):
        codes = head.subtree_codes()
    assert codes[0] == "HEAD"
    assert sorted(codes) == ["BR-1", "HEAD", "SUB-1", "SUB-2"]
    assert branch.subtree_codes() == ["BR-1", "SUB-1", "SUB-2"]


def test_a_two_bank_cycle_ends_in_one_query(django_assert_num_queries):
    first = make_bank(code="CYC-A")
    second = make_bank(code="CYC-B", parent=first)
    # The cycle is written straight into the table, as a bad import once did.
    Bank.objects.filter(code="CYC-A").update(parent_id="CYC-B")
    with django_assert_num_queries(1):
        codes = first.subtree_codes()
    assert codes == ["CYC-A", "CYC-B"]
    assert second.subtree_codes() == ["CYC-B", "CYC-A"]


def test_the_walk_stops_at_the_depth_limit():
    parent = make_bank(code="D00")
    for level in range(1, SUBTREE_MAX_DEPTH + 3):
        parent = make_bank(code=f"D{level:02d}", parent=parent)
    codes = Bank.objects.get(code="D00").subtree_codes()
    assert codes == [f"D{level:02d}" for level in range(SUBTREE_MAX_DEPTH + 1)]


def test_an_officer_of_a_bank_in_a_cycle_still_gets_pages(client, regions):
    first = make_bank(code="CYC-A")
    make_bank(code="CYC-B", parent=first)
    Bank.objects.filter(code="CYC-A").update(parent_id="CYC-B")
    officer = make_user("cyc_officer", Role.BANK_OFFICER, bank=first)
    firm = make_enterprise(name="循环行客户")
    make_loan(firm, Bank.objects.get(code="CYC-B"))
    client.force_login(officer)
    response = client.get(reverse("enterprises:list"))
    assert response.status_code == 200
    assert "循环行客户" in response.content.decode()
