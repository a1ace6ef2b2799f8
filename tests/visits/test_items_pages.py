"""The item, due-visit and campaign pages: open for each role, refuse what is not theirs, keep
what was typed when a save is refused (stale version, missing resolution)."""

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from enterprises.models import Region
from screening.models import ListMembership, ScreeningRun
from tests.factories import LUCHENG_STREET, PINGYANG, PINGYANG_TOWN, make_enterprise
from tests.visits.followhelpers import days, record
from visits.models import Campaign, CoordinationItem, DueVisit
from visits.services import items as svc


@pytest.fixture
def item(cast):
    firm = make_enterprise(PINGYANG_TOWN, name="平阳宏远包装有限公司")
    record(cast.township, firm, bank=cast.bank, problems=["guarantee"], has_need=True)
    return CoordinationItem.objects.get(enterprise=firm)


def test_every_page_opens_for_the_roles_that_use_it(cast, client, item):
    pages = {
        "visits:items": ["staff", "city_staff", "township", "officer", "regulator", "admin"],
        "visits:my_items": ["staff", "township", "officer"],
        "visits:items_city": ["city_staff", "admin"],
        "visits:due": ["staff", "township", "officer", "admin"],
        "visits:campaigns": ["staff", "city_staff", "admin"],
        "visits:campaign_new": ["staff", "city_staff", "admin"],
    }
    refused = {
        "visits:items_city": ["staff", "township", "officer"],
        "visits:due": ["regulator"],
        "visits:campaigns": ["township", "officer", "regulator"],
        "visits:campaign_new": ["township", "officer", "regulator"],
    }
    for name, roles in pages.items():
        for role in roles:
            client.force_login(getattr(cast, role))
            assert client.get(reverse(name)).status_code == 200, (name, role)
    for name, roles in refused.items():
        for role in roles:
            client.force_login(getattr(cast, role))
            assert client.get(reverse(name)).status_code == 403, (name, role)
    client.force_login(cast.township)
    assert item.enterprise.name in client.get(reverse("visits:items")).content.decode()


def test_the_item_list_filters_and_answers_htmx_with_the_table_alone(cast, client, item):
    client.force_login(cast.staff)
    url = reverse("visits:items")
    assert item.enterprise.name in client.get(url, {"problem": "guarantee"}).content.decode()
    assert item.enterprise.name not in client.get(url, {"problem": "rate"}).content.decode()
    assert item.enterprise.name not in client.get(url, {"status": "resolved"}).content.decode()
    assert item.enterprise.name in client.get(url, {"owner": "平阳支行"}).content.decode()
    partial = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="items-table")
    body = partial.content.decode()
    assert 'id="items-table"' in body and "<html" not in body


def test_an_item_of_another_county_is_not_found(cast, client):
    outside = make_enterprise(LUCHENG_STREET)
    record(cast.outsider_staff, outside, problems=["policy"])
    other = CoordinationItem.objects.get(enterprise=outside)
    client.force_login(cast.staff)
    url = reverse("visits:item", args=[other.pk])
    assert client.get(url).status_code == 404
    post = client.post(url, {"status": "in_progress", "version": 1})
    assert post.status_code == 404
    assert client.post(reverse("visits:item_escalate", args=[other.pk]), {}).status_code == 404
    other.refresh_from_db()
    assert other.status == "open" and other.version == 1


def test_the_regulator_reads_an_item_without_a_form_and_cannot_post(cast, client, item):
    client.force_login(cast.regulator)
    url = reverse("visits:item", args=[item.pk])
    page = client.get(url).content.decode()
    assert 'id="item-form"' not in page and item.enterprise.name in page
    assert client.post(url, {"status": "in_progress", "version": 1}).status_code == 403


def test_a_stale_save_is_refused_with_what_changed_and_keeps_the_input(cast, client, item):
    svc.update_item(cast.officer, item, {"status": "in_progress", "description": "银行已对接"}, 1)
    client.force_login(cast.staff)
    url = reverse("visits:item", args=[item.pk])
    response = client.post(
        url, {"status": "open", "description": "我填写的说明", "resolution": "", "version": 1}
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert (
        gettext("Someone else changed this record while you were editing it; nothing was saved.")
        in body
    )
    assert "银行已对接" in body and "我填写的说明" in body
    assert 'name="version" value="2"' in body
    item.refresh_from_db()
    assert item.description == "银行已对接" and item.version == 2


def test_resolving_without_a_resolution_is_refused_and_keeps_the_input(cast, client, item):
    client.force_login(cast.officer)
    url = reverse("visits:item", args=[item.pk])
    response = client.post(
        url, {"status": "resolved", "description": "说明文字保留", "resolution": "", "version": 1}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert gettext("Say how the problem was solved before marking it resolved.") in body
    assert "说明文字保留" in body
    response = client.post(
        url, {"status": "resolved", "description": "x", "resolution": "已解决", "version": 1}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "resolved" and item.resolved_at is not None


def test_escalating_from_the_page_puts_it_on_the_city_list(cast, client, item):
    client.force_login(cast.staff)
    response = client.post(
        reverse("visits:item_escalate", args=[item.pk]),
        {"escalation_reason": "需市级担保基金支持", "version": 1},
    )
    assert response.status_code == 302
    client.force_login(cast.city_staff)
    page = client.get(reverse("visits:items_city")).content.decode()
    assert item.enterprise.name in page


def test_the_due_list_links_each_row_to_the_visit_form(cast, client, item):
    client.force_login(cast.township)
    page = client.get(reverse("visits:due")).content.decode()
    assert f"/visits/new/?enterprise={item.enterprise.uscc}" in page
    assert item.enterprise.name in page


def test_staff_launch_a_campaign_from_the_form(cast, client):
    run = ScreeningRun.objects.create(region_id=PINGYANG, status="succeeded", is_current=True)
    firm = make_enterprise(PINGYANG_TOWN, industry_code="C3311")
    ListMembership.objects.create(run=run, list_type="key_visit", enterprise=firm, tier=1)
    client.force_login(cast.staff)
    url = reverse("visits:campaign_new")
    bad = client.post(url, {"name": "制造业二次走访", "region": PINGYANG, "due_on": "2020-01-01"})
    assert bad.status_code == 200 and "制造业二次走访" in bad.content.decode()
    assert not Campaign.objects.exists()
    response = client.post(
        url,
        {
            "name": "制造业二次走访",
            "region": PINGYANG,
            "section": "C",
            "tiers": ["1"],
            "due_on": days(20).isoformat(),
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.region == Region.objects.get(code=PINGYANG)
    assert DueVisit.objects.get(campaign=campaign).enterprise == firm
    listing = client.get(reverse("visits:campaigns")).content.decode()
    assert "制造业二次走访" in listing
