"""Visit batches: the cut's counts follow the criteria; members frozen; scope re-checked."""

import pytest
from django.core.exceptions import PermissionDenied

from banks.models import VisitBatchMember
from banks.services.batches import count_candidates, counties_for_user, create_visit_batch
from tests.banks.helpers import AOJIANG, build
from tests.factories import PINGYANG_TOWN

pytestmark = pytest.mark.django_db


@pytest.fixture
def matched(cast):
    return build(cast)


def member_ids(batch):
    return set(VisitBatchMember.objects.filter(batch=batch).values_list("enterprise_id", flat=True))


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, [0, 1, 2, 3, 4, 5]),
        ({"tiers": [1]}, [0, 1]),
        ({"tiers": [2, 3]}, [2, 3, 4, 5]),
        ({"ratings": ["A"]}, [0, 2, 4]),
        ({"loan": "no_loan"}, [0, 2, 5]),
        ({"loan": "has_loan"}, [1, 3, 4]),
        ({"banks_min": 1, "banks_max": 2}, [1, 3]),
        ({"banks_min": 3}, [4]),
        ({"townships": [AOJIANG]}, [2, 3, 5]),
        ({"foreign_trade": True}, [1, 5]),
        ({"tiers": [1, 3], "ratings": ["B"], "townships": [PINGYANG_TOWN]}, [1]),
        ({"loan": "no_loan", "foreign_trade": True}, [5]),
    ],
)
def test_the_cut_holds_exactly_the_firms_matching_the_criteria(cast, matched, criteria, expected):
    wanted = {matched.firms[i].pk for i in expected}

    assert count_candidates(matched.county, criteria) == len(wanted)
    batch = create_visit_batch(cast.staff, matched.county, "cut", criteria)

    assert batch.size == len(wanted)
    assert member_ids(batch) == wanted
    assert batch.criteria == criteria


def test_members_are_frozen_when_the_list_changes(cast, matched):
    batch = create_visit_batch(cast.staff, matched.county, "tier 1", {"tiers": [1]})
    from screening.models import ListMembership

    ListMembership.objects.filter(enterprise=matched.firms[0]).delete()

    assert member_ids(batch) == {matched.firms[0].pk, matched.firms[1].pk}
    assert count_candidates(matched.county, {"tiers": [1]}) == 1


@pytest.mark.parametrize("who", ["outsider_staff", "regulator", "township", "officer", "partner"])
def test_a_batch_outside_the_allocate_scope_is_refused(cast, matched, who):
    with pytest.raises(PermissionDenied):
        create_visit_batch(getattr(cast, who), matched.county, "x", {})
    assert not VisitBatchMember.objects.filter(batch__name="x").exists()


def test_city_staff_and_admins_may_cut_batches_of_their_counties(cast, matched):
    assert create_visit_batch(cast.city_staff, matched.county, "city", {}).size == 6
    assert create_visit_batch(cast.admin, matched.county, "admin", {}).size == 6


@pytest.mark.parametrize(
    ("who", "action", "expected"),
    [
        ("staff", "allocate", ["330326"]),
        ("outsider_staff", "allocate", ["330302"]),
        ("regulator", "view", ["330326"]),
        ("regulator", "allocate", []),
        ("township", "view", []),
        ("officer", "view", []),
    ],
)
def test_counties_for_user(cast, who, action, expected):
    codes = list(counties_for_user(getattr(cast, who), action).values_list("code", flat=True))
    assert codes == expected


def test_city_staff_see_the_counties_of_their_city(cast):
    codes = set(counties_for_user(cast.city_staff, "allocate").values_list("code", flat=True))
    assert {"330326", "330302"} <= codes
    assert all(code.startswith("3303") for code in codes)
