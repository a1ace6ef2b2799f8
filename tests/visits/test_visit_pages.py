"""The visit pages: the phone form (kept input, Chinese messages), drafts sent twice, scope
for every role by form and URL, the edit conflict on screen, the enterprise page's section."""

import re
import uuid

import pytest
from django.urls import reverse
from django.utils import translation

from visits.models import Visit
from visits.services.visits import record_visit, update_visit

from .helpers import form_data, visit_data

pytestmark = pytest.mark.django_db

NEW = reverse("visits:new")


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def signed_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    return client


def test_a_rejected_form_keeps_every_field_with_chinese_messages(client, cast, world):
    signed_in(client, cast.township)
    data = form_data(world.mine, need_amount="", visited_on="2999-01-01", note="老板说下月再谈")
    response = client.post(NEW, data)

    assert response.status_code == 200
    assert not Visit.objects.exists()
    html = response.content.decode()
    assert "走访日期不能晚于今天" in html
    assert "请填写所需金额" in html
    form = response.context["form"]
    # every typed value is on screen again, the checkboxes and toggles included
    assert form["note"].value() == "老板说下月再谈"
    assert form["visited_on"].value() == "2999-01-01"
    assert form["problems"].value() == ["collateral", "rate"]
    assert form["acceptable_guarantees"].value() == ["credit", "mortgage"]
    for name, value in [
        ("problems", "rate"),
        ("acceptable_guarantees", "mortgage"),
        ("intent", "strong"),
    ]:
        assert re.search(rf'name="{name}" value="{value}"[^>]*checked', html), name
    assert not re.search(r'name="problems" value="guarantee"[^>]*checked', html)
    assert form["enterprise"].value() == world.mine.uscc


def test_the_form_records_a_visit_and_a_resent_draft_returns_it(client, cast, world):
    signed_in(client, cast.officer)
    key = str(uuid.uuid4())
    response = client.post(NEW, form_data(world.mine, client_key=key))
    visit = Visit.objects.get()
    assert response.status_code == 302 and response.url == reverse("visits:detail", args=[visit.pk])
    assert (visit.bank_officer, visit.problems) == (cast.officer, ["collateral", "rate"])

    # the draft sent again (the first answer was lost): the same visit, none added
    again = client.post(NEW, form_data(world.mine, client_key=key), HTTP_X_VISIT_DRAFT="1")
    assert again.status_code == 200
    assert again.json()["url"] == reverse("visits:detail", args=[visit.pk])
    assert Visit.objects.count() == 1


def test_a_draft_sent_by_fetch_gets_json_errors(client, cast, world):
    signed_in(client, cast.officer)
    response = client.post(NEW, form_data(world.mine, has_need=""), HTTP_X_VISIT_DRAFT="1")
    assert response.status_code == 400
    assert "has_need" in response.json()["errors"]


def test_the_form_preselects_an_enterprise_with_its_team(client, cast, world):
    world.mine.bank_assignments.update(township_worker=cast.township)
    signed_in(client, cast.officer)
    response = client.get(NEW, {"enterprise": world.mine.uscc})
    form = response.context["form"]
    assert form["enterprise"].value() == world.mine.uscc
    assert form["township_worker_name"].value() == "township"
    assert form["bank_officer_name"].value() == "officer"
    html = response.content.decode()
    assert world.mine.name in html and 'name="client_key"' in html
    assert "visits/draft.js" in html


def test_the_due_list_link_preselects_the_round_that_is_due(client, cast, world):
    signed_in(client, cast.officer)
    response = client.get(NEW, {"enterprise": world.mine.uscc, "round": "second"})
    assert response.context["form"]["round"].value() == "second"
    odd = client.get(NEW, {"enterprise": world.mine.uscc, "round": "<b>"})
    assert odd.status_code == 200 and odd.context["form"]["round"].value() != "<b>"


# Who may visit which enterprise of the world (conftest.World).
ALLOWED = {
    "staff": {"mine", "town_other_bank", "borrower", "other_town"},
    "city_staff": {"mine", "town_other_bank", "borrower", "other_town", "other_county"},
    "township": {"mine", "town_other_bank", "borrower"},
    "officer": {"mine"},
    "outsider_staff": {"other_county"},
    "regulator": set(),
    "partner": set(),
    "admin": {"mine", "town_other_bank", "borrower", "other_town", "other_county"},
}
PLACES = ["mine", "town_other_bank", "borrower", "other_town", "other_county"]


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_records_visits_only_in_scope(client, cast, world, role):
    user = getattr(cast, role)
    signed_in(client, user)
    for place in PLACES:
        enterprise = getattr(world, place)
        preselect = client.get(NEW, {"enterprise": enterprise.uscc})
        posted = client.post(NEW, form_data(enterprise))
        made = Visit.objects.filter(enterprise=enterprise).exists()
        if place in ALLOWED[role]:
            assert preselect.status_code == 200, place
            assert posted.status_code == 302 and made, place
        else:
            assert preselect.status_code in (403, 404), place
            assert posted.status_code in (200, 403) and not made, place


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_sees_and_edits_visits_only_in_scope(client, cast, world, role):
    visits = {
        place: record_visit(cast.admin, visit_data(getattr(world, place)))[0] for place in PLACES
    }
    user = getattr(cast, role)
    signed_in(client, user)
    for place, visit in visits.items():
        detail = client.get(reverse("visits:detail", args=[visit.pk]))
        edit = client.post(
            reverse("visits:edit", args=[visit.pk]),
            form_data(None, version="1", note="越权修改"),
        )
        visit.refresh_from_db()
        assert visit.note != "越权修改" or place in ALLOWED[role], place
        if place in ALLOWED[role]:
            assert edit.status_code == 302, place
        else:
            assert edit.status_code in (403, 404), place
        # reading follows the enterprise's view scope (an officer also reads its borrowers')
        readable = Visit.objects.restrict(user).filter(pk=visit.pk).exists()
        assert detail.status_code == (200 if readable else 404), place
        if role in {"township", "outsider_staff"} and place not in ALLOWED[role]:
            assert detail.status_code == 404, place


def test_the_search_finds_only_enterprises_i_may_visit(client, cast, world):
    signed_in(client, cast.officer)
    url = reverse("visits:enterprise_search")
    html = client.get(url, {"enterprise_q": "平阳"}).content.decode()
    assert world.mine.name in html
    assert world.town_other_bank.name not in html and world.borrower.name not in html
    by_code = client.get(url, {"enterprise_q": world.mine.uscc[:12]}).content.decode()
    assert world.mine.uscc in by_code
    signed_in(client, cast.township)
    html = client.get(url, {"enterprise_q": "有限公司"}).content.decode()
    assert world.town_other_bank.name in html and world.other_town.name not in html


def test_an_edit_conflict_says_what_changed_and_keeps_my_input(client, cast, world):
    visit, _ = record_visit(cast.township, visit_data(world.mine))
    edit = reverse("visits:edit", args=[visit.pk])
    signed_in(client, cast.township)
    client.get(edit)  # I open the form at version 1 …
    update_visit(cast.staff, visit, visit_data(world.mine, need_amount="350"), 1)  # … they save

    response = client.post(edit, form_data(None, version="1", note="我补充的备注"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "其他人修改了这条走访" in html
    assert "所需金额" in html and "350" in html  # what they changed, in words and values
    assert response.context["form"]["note"].value() == "我补充的备注"
    assert response.context["form"]["version"].value() == "2"
    visit.refresh_from_db()
    assert (visit.version, visit.note) == (2, "厂房扩建，需要流动资金")
    # saving again on purpose applies my input over theirs
    again = client.post(edit, form_data(None, version="2", note="我补充的备注"))
    assert again.status_code == 302
    visit.refresh_from_db()
    assert (visit.version, visit.note) == (3, "我补充的备注")


def test_the_enterprise_page_lists_its_visits_with_the_button(client, cast, world):
    record_visit(cast.township, visit_data(world.mine, note=""))
    signed_in(client, cast.officer)
    page = client.get(reverse("enterprises:detail", args=[world.mine.pk])).content.decode()
    assert 'id="visit-panel"' in page and "记录走访" in page
    assert f"?enterprise={world.mine.uscc}" in page
    assert "首次走访" in page
    # a task force member of the county sees the section; a regulator reads without the button
    signed_in(client, cast.regulator)
    page = client.get(reverse("enterprises:detail", args=[world.mine.pk])).content.decode()
    assert 'id="visit-panel"' in page and 'id="record-visit"' not in page


def test_the_nav_offers_record_a_visit_to_roles_that_visit(client, cast):
    signed_in(client, cast.township)
    assert "记录走访" in client.get(reverse("visits:mine")).content.decode()
    signed_in(client, cast.regulator)
    assert "记录走访" not in client.get(reverse("home")).content.decode()
    assert client.get(NEW).status_code == 403


def test_my_visits_lists_what_i_recorded(client, cast, world):
    record_visit(cast.township, visit_data(world.mine))
    record_visit(cast.staff, visit_data(world.other_town))
    signed_in(client, cast.township)
    html = client.get(reverse("visits:mine")).content.decode()
    assert world.mine.name in html and world.other_town.name not in html


def test_withdrawing_keeps_the_visit_and_blocks_edits(client, cast, world):
    visit, _ = record_visit(cast.township, visit_data(world.mine))
    signed_in(client, cast.township)
    response = client.post(reverse("visits:withdraw", args=[visit.pk]), {"version": "1"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == "withdrawn"
    assert client.get(reverse("visits:edit", args=[visit.pk])).status_code == 404
    assert "已撤回" in client.get(reverse("visits:detail", args=[visit.pk])).content.decode()


def test_a_visit_with_another_bank_stays_that_banks_business(client, cast, world):
    """The enterprise was first led by another bank, which visited it; my branch leads it now.
    Page, panel, API and timeline all follow Visit's one scope rule."""
    from rest_framework.test import APIClient

    # (no problems: an item raised on a visit is everyone's to coordinate, with its text)
    theirs, _ = record_visit(cast.admin, visit_data(world.mine, note="他行走访记录", problems=[]))
    Visit.objects.filter(pk=theirs.pk).update(bank=cast.other_bank)
    ours, _ = record_visit(cast.officer, visit_data(world.mine, note="本行走访记录"))
    signed_in(client, cast.officer)
    assert client.get(reverse("visits:detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("visits:detail", args=[ours.pk])).status_code == 200
    page = client.get(reverse("enterprises:detail", args=[world.mine.pk])).content.decode()
    assert "本行走访记录" in page and "他行走访记录" not in page  # the timeline
    assert reverse("visits:detail", args=[ours.pk]) in page  # the panel and the timeline
    assert reverse("visits:detail", args=[theirs.pk]) not in page
    api = APIClient()
    api.force_authenticate(cast.officer)
    listed = api.get("/api/v1/visits/").json()
    ids = {row["id"] for row in listed.get("results", listed)}
    assert ours.pk in ids and theirs.pk not in ids
    # the county's staff read both
    assert Visit.objects.restrict(cast.staff).filter(pk__in=[ours.pk, theirs.pk]).count() == 2
