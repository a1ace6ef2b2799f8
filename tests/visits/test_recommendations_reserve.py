"""The 首贷户储备库 (reserve pool): no-loan enterprises with a financing need found on a
completed visit, or with an open application-list entry — on both build paths."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from screening.models import ListChange, ListMembership
from tests.factories import make_census, make_enterprise, make_loan
from tests.screening.helpers import codes, members, rebuild
from visits.models import Application
from visits.services.recommendations import add_application

from .recommendation_helpers import record

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["sql", "python"])
def engine(request, regions):
    from django.conf import settings

    if request.param == "sql" and not settings.IS_POSTGRES:
        pytest.skip("the SQL path needs PostgreSQL")
    return request.param


def active_firm(**fields):
    firm = make_enterprise(**fields)
    make_census(firm, census_year=2023)
    return firm


def test_the_reserve_pool_holds_no_loan_firms_with_a_need(cast, engine):
    needy, no_need, borrower, later_no_need = (active_firm() for _ in range(4))
    by_hand = active_firm()
    withdrawn = active_firm()
    record(needy, visited_on=date(2025, 5, 10))
    record(no_need, has_need=False, need_amount=None)
    record(borrower)
    make_loan(borrower, cast.bank, disbursed_on=date(2025, 1, 5))
    record(later_no_need, visited_on=date(2025, 3, 1))
    # The latest visit found no need any more; its open entry is closed by a rejected check.
    Application.objects.filter(enterprise=later_no_need).update(status="rejected")
    record(later_no_need, visited_on=date(2025, 6, 1), has_need=False, need_amount=None)
    add_application(cast.staff, by_hand)  # on the list without a visit
    record(withdrawn, status="withdrawn")
    run = rebuild(engine)
    assert members(run, "reserve") == {needy.pk, by_hand.pk}
    reasons = ListMembership.objects.get(run=run, list_type="reserve", enterprise=needy).reasons
    # The visit put it on the application list too.
    assert codes(reasons) == ["never_borrowed", "financing_need", "on_application_list"]
    assert reasons[1]["on"] == "2025-05-10"
    hand = ListMembership.objects.get(run=run, list_type="reserve", enterprise=by_hand).reasons
    assert codes(hand) == ["never_borrowed", "on_application_list"]
    assert run.counts["reserve"] == 2


def test_the_reserve_list_page_and_api_show_them_after_a_rebuild(cast):
    needy, other = active_firm(), active_firm()
    record(needy)
    rebuild()
    client = Client()
    client.force_login(cast.staff)
    page = client.get(reverse("screening:index"), {"list": "reserve"}).content.decode()
    assert needy.name in page and other.name not in page
    body = client.get("/api/v1/lists/members/", {"list_type": "reserve"}).json()
    assert [m["uscc"] for m in body["results"]] == [needy.uscc]


def test_leaving_the_reserve_pool_says_why(cast, engine):
    firm = active_firm()
    record(firm)
    rebuild(engine)
    make_loan(firm, cast.bank, disbursed_on=date(2025, 6, 1))
    run = rebuild(engine)
    change = ListChange.objects.get(run=run, list_type="reserve", enterprise=firm)
    assert change.change == "left" and codes(change.reasons) == ["has_loan"]
