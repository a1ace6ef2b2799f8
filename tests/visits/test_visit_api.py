"""The visits API: visits and coordination items with ETag / If-Match (412 with what changed,
428 without the header), idempotent create by client_key, read-only application and
recommendation lists, and scope for every role (bank tokens: their own enterprises only)."""

import uuid
from datetime import date

import pytest
from auditlog.models import LogEntry
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.choices import Role
from tests.factories import (
    LUCHENG_STREET,
    PINGYANG,
    make_assignment,
    make_enterprise,
    make_user,
)
from visits.models import Application, CoordinationItem, Recommendation, Visit

pytestmark = pytest.mark.django_db

VISITS = "/api/v1/visits/"
ITEMS = "/api/v1/coordination-items/"
APPLICATIONS = "/api/v1/applications/"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(enterprise, **fields):
    data = {
        "enterprise": enterprise.pk,
        "visited_on": "2025-06-03",
        "round": "first",
        "method": "on_site",
        "has_need": True,
        "need_amount": "200",
        "need_purpose": "working_capital",
        "acceptable_guarantees": ["credit", "surety"],
        "problems": ["rate"],
    }
    data.update(fields)
    return data


def make_visit(enterprise, **fields):
    return Visit.objects.create(
        enterprise=enterprise, visited_on=date(2025, 6, 1), has_need=False, **fields
    )


def test_a_visit_is_created_once_per_client_key(cast):
    enterprise = make_enterprise()
    api = client_for(cast.township)
    key = str(uuid.uuid4())
    first = api.post(VISITS, body(enterprise, client_key=key), format="json")
    assert first.status_code == 201, first.content
    assert first["ETag"] == '"1"'
    again = api.post(VISITS, body(enterprise, client_key=key), format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Visit.objects.count() == 1
    visit = Visit.objects.get()
    assert (visit.township_worker, visit.created_by) == (cast.township, cast.township)
    assert visit.acceptable_guarantees == ["credit", "surety"]


def test_a_visit_takes_every_guarantee_of_the_loans_app_and_no_other(cast):
    from visits.choices import guarantee_choices

    api = client_for(cast.staff)
    codes = [code for code, _label in guarantee_choices()]
    saved = api.post(VISITS, body(make_enterprise(), acceptable_guarantees=codes), format="json")
    assert saved.status_code == 201, saved.content
    assert Visit.objects.get().acceptable_guarantees == codes
    refused = api.post(
        VISITS, body(make_enterprise(), acceptable_guarantees=["goodwill"]), format="json"
    )
    assert refused.status_code == 400
    assert set(refused.json()) == {"acceptable_guarantees"}


def test_a_rejected_visit_names_the_field(cast):
    api = client_for(cast.staff)
    response = api.post(
        VISITS, body(make_enterprise(), need_amount=None, visited_on="2999-01-01"), format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"need_amount", "visited_on"}
    assert not Visit.objects.exists()


def test_updating_a_visit_needs_the_etag_and_a_stale_one_says_what_changed(cast):
    visit = make_visit(make_enterprise())
    api = client_for(cast.staff)
    read = api.get(f"{VISITS}{visit.pk}/")
    assert read["ETag"] == '"1"'
    url = f"{VISITS}{visit.pk}/"
    assert api.patch(url, {"note": "补充材料"}, format="json").status_code == 428

    saved = api.patch(url, {"note": "补充材料"}, format="json", HTTP_IF_MATCH='"1"')
    assert saved.status_code == 200, saved.content
    assert saved["ETag"] == '"2"' and saved.json()["version"] == 2
    # Someone still holding version 1 is refused with what the other person changed.
    stale = api.patch(url, {"note": "另一说法"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert stale["ETag"] == '"2"'
    assert {c["field"] for c in stale.json()["changes"]} == {"备注"}
    visit.refresh_from_db()
    assert (visit.note, visit.version) == ("补充材料", 2)
    assert LogEntry.objects.get_for_object(visit).filter(action=LogEntry.Action.UPDATE).exists()
    garbage = api.patch(url, {"note": "x"}, format="json", HTTP_IF_MATCH="*")
    assert garbage.status_code == 412


def test_visits_outside_the_scope_are_invisible_and_unwritable_for_every_role(cast):
    mine = make_enterprise()
    theirs = make_enterprise(region=LUCHENG_STREET)
    my_visit, their_visit = make_visit(mine), make_visit(theirs)
    make_assignment(mine, cast.bank)
    answers = {}
    for role in ("staff", "township", "officer", "outsider_staff", "regulator", "partner"):
        api = client_for(getattr(cast, role))
        listed = {v["id"] for v in api.get(VISITS).json()["results"]}
        patch = api.patch(
            f"{VISITS}{their_visit.pk}/", {"note": "x"}, format="json", HTTP_IF_MATCH='"1"'
        )
        create = api.post(VISITS, body(theirs), format="json")
        answers[role] = (
            my_visit.pk in listed,
            their_visit.pk in listed,
            patch.status_code,
            create.status_code,
        )
    assert answers == {
        "staff": (True, False, 404, 404),
        "township": (True, False, 404, 404),
        "officer": (True, False, 404, 404),  # its branch's enterprise only
        "outsider_staff": (False, True, 200, 201),
        "regulator": (True, False, 403, 403),  # read-only
        "partner": (True, False, 403, 403),  # a token with ``view`` only
    }


def test_a_bank_token_reads_only_its_own_enterprises_and_recommendations(cast):
    token_user = make_user(
        "py-bank", Role.PARTNER, region=PINGYANG, bank=cast.bank, api_scopes="view"
    )
    ours, other = make_enterprise(), make_enterprise()
    make_assignment(ours, cast.bank)
    make_visit(ours)
    make_visit(other)
    Recommendation.objects.create(enterprise=ours, bank=cast.bank, recommended_on=date(2025, 6, 1))
    Recommendation.objects.create(
        enterprise=other, bank=cast.other_bank, recommended_on=date(2025, 6, 1)
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=token_user).key}")
    assert [v["enterprise"] for v in api.get(VISITS).json()["results"]] == [ours.pk]
    assert [r["bank_code"] for r in api.get("/api/v1/recommendations/").json()["results"]] == [
        "PY-BR"
    ]


def test_recommendations_filter_by_region_bank_date_and_applications_by_status(cast):
    first, second = make_enterprise(), make_enterprise(region="330326101")
    Recommendation.objects.create(enterprise=first, bank=cast.bank, recommended_on=date(2025, 6, 1))
    Recommendation.objects.create(
        enterprise=second, bank=cast.bank, recommended_on=date(2025, 7, 1)
    )
    Recommendation.objects.create(enterprise=second, bank=cast.other_bank)  # not pushed yet
    Application.objects.create(enterprise=first, status="checked")
    Application.objects.create(enterprise=second)
    api = client_for(cast.staff)

    def ids(query):
        return [
            r["enterprise"] for r in api.get("/api/v1/recommendations/", query).json()["results"]
        ]

    assert ids({"region": "330326101"}) == [second.pk, second.pk]
    assert ids({"recommended_after": "2025-06-15"}) == [second.pk]
    assert ids({"recommended_before": "2025-06-15", "bank": "PY-BR"}) == [first.pk]
    assert ids({"pushed": "false"}) == [second.pk]
    applications = api.get("/api/v1/applications/", {"status": "checked"}).json()["results"]
    assert [a["enterprise"] for a in applications] == [first.pk]


def test_applications_outside_the_scope_are_invisible_and_unwritable_for_every_role(cast):
    ours = make_enterprise()  # 昆阳镇, lead bank cast.bank
    make_assignment(ours, cast.bank)
    other_bank = make_enterprise()  # 昆阳镇, another bank's
    make_assignment(other_bank, cast.other_bank)
    other_town = make_enterprise(region="330326101")  # 平阳, another township, no bank
    lucheng = make_enterprise(region=LUCHENG_STREET)  # another county
    entries = {
        name: Application.objects.create(enterprise=firm)
        for name, firm in [
            ("ours", ours),
            ("other_bank", other_bank),
            ("other_town", other_town),
            ("lucheng", lucheng),
        ]
    }
    by_pk = {entry.pk: name for name, entry in entries.items()}
    officer_of_other_bank = make_user("ra-officer", Role.BANK_OFFICER, bank=cast.other_bank)
    seen, refused = {}, {}
    for role, user in [
        ("staff", cast.staff),
        ("officer", cast.officer),
        ("officer_of_other_bank", officer_of_other_bank),
        ("township", cast.township),
        ("outsider_staff", cast.outsider_staff),
    ]:
        api = client_for(user)
        listed = {by_pk[a["id"]] for a in api.get(APPLICATIONS).json()["results"]}
        opened = {
            name
            for name, entry in entries.items()
            if api.get(f"{APPLICATIONS}{entry.pk}/").status_code == 200
        }
        assert opened == listed, role  # any other entry answers 404
        seen[role] = listed
        # Read-only for everyone: no write reaches an entry, in scope or not.
        answers = set()
        for entry in entries.values():
            url = f"{APPLICATIONS}{entry.pk}/"
            answers.add(api.patch(url, {"status": "approved"}, format="json").status_code)
            answers.add(api.put(url, {"status": "approved"}, format="json").status_code)
            answers.add(api.delete(url).status_code)
        answers.add(api.post(APPLICATIONS, {"enterprise": lucheng.pk}, format="json").status_code)
        refused[role] = answers
    assert seen == {
        "staff": {"ours", "other_bank", "other_town"},
        "officer": {"ours"},
        "officer_of_other_bank": {"other_bank"},
        "township": {"ours", "other_bank"},
        "outsider_staff": {"lucheng"},
    }
    # Staff hold the change right and meet the read-only API (405); the others lack it (403).
    assert refused == {
        "staff": {405},
        "officer": {403},
        "officer_of_other_bank": {403},
        "township": {403},
        "outsider_staff": {405},
    }
    assert Application.objects.count() == 4
    assert set(Application.objects.values_list("status", flat=True)) == {"pending"}


def test_a_coordination_item_changes_with_if_match_only(cast):
    enterprise = make_enterprise()
    item = CoordinationItem.objects.create(enterprise=enterprise, problem="rate")
    api = client_for(cast.staff)
    url = f"{ITEMS}{item.pk}/"
    assert api.get(url)["ETag"] == '"1"'
    assert api.patch(url, {"status": "in_progress"}, format="json").status_code == 428
    assert api.put(url, {"status": "in_progress"}, format="json").status_code == 405
    ok = api.patch(url, {"status": "in_progress", "owner_department": "县财政局"},
                   format="json", HTTP_IF_MATCH='"1"')  # fmt: skip
    assert ok.status_code == 200, ok.content
    stale = api.patch(url, {"status": "resolved"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    item.refresh_from_db()
    assert (item.status, item.owner_department, item.version) == ("in_progress", "县财政局", 2)
    # Its problem and enterprise are not the API's to change.
    api.patch(url, {"problem": "other"}, format="json", HTTP_IF_MATCH='"2"')
    item.refresh_from_db()
    assert item.problem == "rate"
    outsider = client_for(cast.outsider_staff)
    assert outsider.get(url).status_code == 404
    assert outsider.patch(url, {"status": "resolved"}, format="json",
                          HTTP_IF_MATCH='"3"').status_code == 404  # fmt: skip
    assert client_for(cast.regulator).patch(url, {}, format="json").status_code == 403
