"""The demo's visits (demo/visitform.py) go through the visit service and load once."""

import pytest

from accounts.choices import Role
from demo import visitform
from tests.factories import PINGYANG_TOWN, make_assignment, make_enterprise, make_user
from visits.models import Visit

pytestmark = pytest.mark.django_db


def test_demo_visits_are_recorded_by_the_township_worker_and_the_banker_once(cast):
    banker = make_user("banker", Role.BANK_OFFICER, bank=cast.bank)
    for _n in range(4):
        make_assignment(make_enterprise(PINGYANG_TOWN), cast.bank)
    for _n in range(4):
        make_enterprise(PINGYANG_TOWN)

    assert visitform.load() == len(visitform.DEMO_VISITS)
    assert visitform.load() == 0  # loading again adds nothing

    visits = Visit.objects.all()
    assert {v.created_by for v in visits} == {banker, cast.township}
    assert {v.round for v in visits} == {"first", "second", "return"}
    assert {v.method for v in visits} == {"on_site", "phone", "online"}
    assert {v.has_need for v in visits} == {True, False}
    assert any(v.problems for v in visits)
    # the banker's visits are all of enterprises handed to its branch
    for visit in visits.filter(created_by=banker):
        assert visit.enterprise.bank_assignments.filter(bank=cast.bank).exists()
