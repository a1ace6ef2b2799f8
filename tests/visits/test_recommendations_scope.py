"""Scope of the application and recommendation lists for every role: out-of-scope rows are
invisible and unwritable (pages and services alike)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from tests.factories import LUCHENG_STREET, make_assignment, make_enterprise
from visits.choices import ApplicationStatus, FiveStandard
from visits.models import Application, Recommendation, RecommendationBatch
from visits.services.recommendations import (
    approve_application,
    check_application,
    push_recommendations,
)

from .recommendation_helpers import firm_with_lead, record, second_member

pytestmark = pytest.mark.django_db

ALL_MET = dict.fromkeys(FiveStandard.values, True)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def entries(cast):
    """A pending entry of 平阳 (cast.bank lead), a checked one, an approved-not-pushed
    recommendation, and a pending entry of 鹿城 (another county)."""
    pending = firm_with_lead(cast)
    record(pending)
    to_check = firm_with_lead(cast)
    record(to_check)
    checked = Application.objects.get(enterprise=to_check)
    check_application(cast.staff, checked, ALL_MET, "", checked.version)
    to_approve = firm_with_lead(cast)
    record(to_approve)
    approved = Application.objects.get(enterprise=to_approve)
    check_application(cast.staff, approved, ALL_MET, "", approved.version)
    rec = approve_application(second_member(), approved, approved.version)
    far = make_enterprise(region=LUCHENG_STREET, address="鹿城")
    make_assignment(far, cast.other_bank)
    record(far)
    return {
        "pending": Application.objects.get(enterprise=pending),
        "checked": checked,
        "rec": rec,
        "far": Application.objects.get(enterprise=far),
    }


def test_another_countys_task_force_sees_and_writes_none_of_it(cast, entries):
    outsider = cast.outsider_staff
    page = client_for(outsider).get(reverse("visits:application_list")).content.decode()
    assert entries["far"].enterprise.name in page
    assert entries["pending"].enterprise.name not in page
    client = client_for(outsider)
    pending = entries["pending"]
    assert client.get(reverse("visits:application_check", args=[pending.pk])).status_code == 404
    posted = client.post(
        reverse("visits:application_check", args=[pending.pk]),
        {**{c: "on" for c in FiveStandard.values}, "version": pending.version},
    )
    assert posted.status_code == 404
    with pytest.raises(PermissionDenied):
        check_application(outsider, pending, ALL_MET, "", pending.version)
    with pytest.raises(PermissionDenied):
        approve_application(outsider, entries["checked"], entries["checked"].version)
    with pytest.raises(ValidationError):  # out of scope: nothing of theirs to push
        push_recommendations(outsider, [entries["rec"].pk])
    pending.refresh_from_db()
    assert pending.status == ApplicationStatus.PENDING
    assert Recommendation.objects.get(pk=entries["rec"].pk).recommended_on is None
    recs = client_for(outsider).get(reverse("visits:recommendation_list")).content.decode()
    assert entries["rec"].enterprise.name not in recs


def test_the_city_task_force_sees_every_county(cast, entries):
    page = client_for(cast.city_staff).get(reverse("visits:application_list")).content.decode()
    assert entries["far"].enterprise.name in page and entries["pending"].enterprise.name in page


@pytest.mark.parametrize("role", ["township", "regulator"])
def test_read_only_roles_see_their_region_but_cannot_check_approve_or_push(cast, entries, role):
    user = getattr(cast, role)
    client = client_for(user)
    page = client.get(reverse("visits:application_list")).content.decode()
    assert entries["pending"].enterprise.name in page
    assert entries["far"].enterprise.name not in page
    pending, checked = entries["pending"], entries["checked"]
    check_page = client.get(reverse("visits:application_check", args=[pending.pk]))
    assert check_page.status_code == 200 and 'id="submit-check"' not in check_page.content.decode()
    posted = client.post(
        reverse("visits:application_check", args=[pending.pk]),
        {**{c: "on" for c in FiveStandard.values}, "version": pending.version},
    )
    assert posted.status_code == 403
    assert (
        client.post(
            reverse("visits:application_approve", args=[checked.pk]), {"version": checked.version}
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("visits:recommendation_push"), {"ids": [entries["rec"].pk], "confirm": "1"}
        ).status_code
        == 403
    )
    with pytest.raises(PermissionDenied):
        check_application(user, pending, ALL_MET, "", pending.version)
    pending.refresh_from_db()
    checked.refresh_from_db()
    assert pending.status == ApplicationStatus.PENDING
    assert checked.status == ApplicationStatus.CHECKED
    assert not RecommendationBatch.objects.exists()


def test_a_township_worker_sees_only_their_township(cast, entries):
    elsewhere = firm_with_lead(cast, region="330326101")  # 鳌江镇, same county
    record(elsewhere)
    page = client_for(cast.township).get(reverse("visits:application_list")).content.decode()
    assert entries["pending"].enterprise.name in page
    assert elsewhere.name not in page


def test_bank_officers_use_their_workspace_not_the_staff_lists(cast, entries):
    client = client_for(cast.officer)
    for name in ["visits:application_list", "visits:recommendation_list", "visits:batch_list"]:
        assert client.get(reverse(name)).status_code == 403
    assert (
        client.post(reverse("visits:recommendation_push"), {"ids": [entries["rec"].pk]}).status_code
        == 403
    )
    with pytest.raises(PermissionDenied):
        push_recommendations(cast.officer, [entries["rec"].pk])
    with pytest.raises(PermissionDenied):
        check_application(cast.officer, entries["pending"], ALL_MET, "", 1)


def test_a_partner_token_with_view_scope_cannot_write(cast, entries):
    pending = entries["pending"]
    with pytest.raises(PermissionDenied):
        check_application(cast.partner, pending, ALL_MET, "", pending.version)
    with pytest.raises(PermissionDenied):
        push_recommendations(cast.partner, [entries["rec"].pk])
    pending.refresh_from_db()
    assert pending.status == ApplicationStatus.PENDING


def test_the_nav_shows_the_recommendation_lists_to_region_users_only(cast):
    url = reverse("visits:application_list")
    assert f'href="{url}"' in client_for(cast.staff).get(reverse("home")).content.decode()
    officer_home = client_for(cast.officer).get(reverse("banks:workspace")).content.decode()
    assert f'href="{url}"' not in officer_home
