"""One change history: who, when, from where and by which token, before → after; read-only."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.choices import Role
from accounts.models import ApiToken, User
from banks.models import Bank, BankAssignment
from core.history import SECRET_MASK, acting_as, is_tracked, token_fingerprint
from core.records import CoordinationRecord
from enterprises.models import CensusRecord, Enterprise, ImportBatch, NegativeListEntry, TaxRecord
from loans.models import CreditSnapshot, Loan
from screening.models import RuleSet
from tests.factories import PINGYANG, make_assignment, make_enterprise, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/bank-assignments/"


def entries(model):
    return LogEntry.objects.get_for_model(model).order_by("timestamp", "pk")


@pytest.fixture
def token_client(cast):
    user = make_user(
        "bank_partner", Role.PARTNER, region=PINGYANG, bank=cast.bank, api_scopes="view,allocate"
    )
    token = Token.objects.create(user=user)
    client = APIClient(REMOTE_ADDR="10.1.2.3")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return user, token, client


def test_api_writes_record_who_when_where_token_and_before_after(cast, token_client):
    user, token, api = token_client
    enterprise = make_enterprise()
    started = timezone.now()
    created = api.post(URL, {"enterprise": enterprise.pk, "bank": "PY-BR", "role": "lead"})
    assert created.status_code == 201
    pk = created.json()["id"]
    assert api.patch(f"{URL}{pk}/", {"role": "backup"}).status_code == 200
    assert api.delete(f"{URL}{pk}/").status_code == 204

    create, update, delete = entries(BankAssignment)
    assert [e.action for e in (create, update, delete)] == [
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,
        LogEntry.Action.DELETE,
    ]
    for entry in (create, update, delete):
        assert entry.object_pk == str(pk)
        assert entry.actor == user
        assert entry.remote_addr == "10.1.2.3"
        assert entry.additional_data == {
            "via": "token",
            "token": token_fingerprint(token.key),
            "actor_name": "bank_partner",
        }
        assert entry.timestamp >= started
    assert create.changes["role"] == [None, "lead"]
    assert create.changes["bank"] == [None, "PY-BR"]
    assert update.changes == {"role": ["lead", "backup"]}
    assert delete.changes["role"] == ["backup", None]
    # The token's secret never enters the history.
    assert not LogEntry.objects.filter(additional_data__token=token.key).exists()


def test_a_refused_write_leaves_no_history(cast, token_client):
    _user, _token, api = token_client
    row = make_assignment(make_enterprise(), cast.bank)
    before = LogEntry.objects.count()
    assert api.patch(f"{URL}{row.pk}/", {"bank": cast.other_bank.pk}).status_code == 403
    assert LogEntry.objects.count() == before


@pytest.fixture
def admin_client(cast, client):
    client.force_login(cast.admin)
    return client


def test_admin_pages_record_changes_of_banks_rule_sets_users_and_tokens(cast, admin_client):
    add = admin_client.post(
        reverse("admin:banks_bank_add"), {"code": "NEW-1", "name": "新银行", "level": ""}
    )
    assert add.status_code == 302
    change = admin_client.post(
        reverse("admin:banks_bank_change", args=["NEW-1"]),
        {"code": "NEW-1", "name": "新银行平阳支行", "level": "sub_branch"},
    )
    assert change.status_code == 302
    bank_entries = list(entries(Bank).filter(object_pk="NEW-1"))
    assert [e.action for e in bank_entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert bank_entries[1].changes["name"] == ["新银行", "新银行平阳支行"]
    assert all(e.actor == cast.admin for e in bank_entries)
    assert all(e.remote_addr == "127.0.0.1" for e in bank_entries)
    assert all(e.additional_data["via"] == "web" for e in bank_entries)

    RuleSet.objects.create(version=7, name="seven")  # outside a request: attributed to no one
    rule_set = RuleSet.objects.get(version=7)
    response = admin_client.post(
        reverse("admin:screening_ruleset_change", args=[rule_set.pk]),
        {
            "version": 7,
            "name": "seven b",
            "is_active": "on",
            "weights": '{"tax": {"A": 30}}',
            "tier1_min_score": 70,
            "tier2_min_score": 45,
            "key_visit_min_score": 0,
            "batch_size": 200,
            "note": "",
        },
    )
    assert response.status_code == 302
    system, by_admin = entries(RuleSet).filter(object_pk=str(rule_set.pk))
    assert system.actor is None and system.additional_data == {"via": "system"}
    assert by_admin.actor == cast.admin
    assert by_admin.changes["name"] == ["seven", "seven b"]

    staff = cast.staff
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[staff.pk]),
        {
            "username": "staff",
            "first_name": "",
            "last_name": "",
            "email": "",
            "is_active": "on",
            "role": Role.REGULATOR,
            "region": PINGYANG,
            "bank": "",
            "api_scopes": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "08:00:00",
        },
    )
    assert response.status_code == 302
    (user_entry,) = entries(User).filter(object_pk=str(staff.pk), action=LogEntry.Action.UPDATE)
    assert user_entry.changes["role"] == [Role.TASK_FORCE, Role.REGULATOR]
    assert user_entry.actor == cast.admin

    response = admin_client.post(reverse("admin:accounts_apitoken_add"), {"user": cast.partner.pk})
    assert response.status_code == 302
    key = Token.objects.get(user=cast.partner).key
    (token_entry,) = entries(Token)
    assert token_entry.action == LogEntry.Action.CREATE
    assert token_entry.actor == cast.admin
    assert token_entry.object_pk == token_fingerprint(key)
    assert token_entry.changes["key"] == [None, SECRET_MASK]
    assert key not in str(token_entry.changes) + token_entry.object_repr + token_entry.object_pk


def test_password_changes_are_recorded_without_the_hash(cast):
    user = cast.township
    with acting_as(cast.admin, via="cli"):
        user.set_password("a new one")
        user.save()
    (entry,) = entries(User).filter(object_pk=str(user.pk), action=LogEntry.Action.UPDATE)
    assert entry.changes == {"password": [SECRET_MASK, SECRET_MASK]}
    assert entry.actor == cast.admin
    assert entry.additional_data["via"] == "cli"


def test_a_job_or_command_attributes_its_writes_with_acting_as(cast):
    with acting_as(cast.staff, via="job"):
        Bank.objects.create(code="JOB-1", name="任务银行")
    (entry,) = entries(Bank).filter(object_pk="JOB-1")
    assert entry.actor == cast.staff
    assert entry.additional_data == {"via": "job", "actor_name": "staff"}


def test_record_pages_show_their_history(cast, admin_client):
    row = make_assignment(make_enterprise(), cast.bank)
    with acting_as(cast.staff, via="job"):
        row.role = "backup"
        row.save()
    page = admin_client.get(reverse("admin:banks_bankassignment_change", args=[row.pk]))
    assert page.status_code == 200
    assert page.context["original"] == row
    html = page.content.decode()
    assert "history-entry" in html
    assert html.count('class="history-entry"') == 2  # created, then changed by staff
    assert cast.staff.display_name in html


def test_the_history_list_is_for_administrators_and_filters(cast, admin_client, client):
    with acting_as(cast.staff):
        Bank.objects.create(code="A-1", name="甲")
    with acting_as(cast.city_staff):
        Bank.objects.create(code="B-1", name="乙")
        nine = RuleSet.objects.create(version=9, name="nine")
    url = reverse("history")
    everything = admin_client.get(url)
    assert everything.status_code == 200
    assert everything.context["page"].paginator.count == LogEntry.objects.count()

    def count(**params):
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return {(e.content_type.model, e.object_pk) for e in response.context["page"]}

    bank_type = str(entries(Bank).first().content_type_id)
    cast_banks = {("bank", code) for code in ("PY-HEAD", "PY-BR", "RA-BR")}
    assert count(model=bank_type) == {("bank", "A-1"), ("bank", "B-1"), *cast_banks}
    assert count(user=cast.city_staff.pk) == {("bank", "B-1"), ("ruleset", str(nine.pk))}
    assert {pk for _m, pk in count(user=cast.city_staff.pk, model=bank_type)} == {"B-1"}
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert count(start=tomorrow) == set()
    assert len(count(end=tomorrow)) == LogEntry.objects.count()

    client.force_login(cast.staff)
    assert client.get(url).status_code == 403


def test_the_history_list_is_paginated(cast, admin_client):
    with acting_as(cast.admin):
        for i in range(55):
            Bank.objects.create(code=f"P-{i}", name=f"银行{i}")
    first = admin_client.get(reverse("history"))
    assert len(first.context["page"].object_list) == 50
    second = admin_client.get(reverse("history"), {"page": 2})
    assert len(second.context["page"].object_list) == LogEntry.objects.count() - 50


def test_nothing_in_the_app_can_edit_or_delete_the_history(cast, admin_client):
    with acting_as(cast.admin):
        Bank.objects.create(code="H-1", name="历史银行")
    entry = entries(Bank).get(object_pk="H-1")
    change_url = reverse("admin:auditlog_logentry_change", args=[entry.pk])
    assert admin_client.get(change_url).status_code == 200  # readable
    assert admin_client.post(change_url, {"object_repr": "forged"}).status_code == 403
    delete_url = reverse("admin:auditlog_logentry_delete", args=[entry.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    bulk = admin_client.post(
        reverse("admin:auditlog_logentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code == 200  # no such action offered: the list is shown again
    entry.refresh_from_db()
    assert entry.object_repr == "历史银行"
    # Deleting the record keeps its history.
    Bank.objects.get(code="H-1").delete()
    assert entries(Bank).filter(object_pk="H-1").count() == 2
    # And the API has no door to it.
    api = APIClient()
    api.force_authenticate(cast.admin)
    assert api.get("/api/v1/history/").status_code == 404


def test_non_admins_cannot_read_the_history_in_the_admin(cast, client):
    staff = cast.staff
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 403


def test_coordination_records_are_tracked_and_import_tables_are_not():
    records = [m for m in apps.get_models() if issubclass(m, CoordinationRecord)]
    assert {m.__name__ for m in records} >= {"Bank", "BankAssignment", "RuleSet"}
    for model in [*records, User, Token, ApiToken]:
        assert is_tracked(model), model
    for model in [*records, User, ApiToken]:  # DRF's Token is written through ApiToken
        assert hasattr(model.objects, "restrict"), model
    # Bulk imports keep batch-level provenance: no per-row history on the big tables. (Loan is
    # a CoordinationRecord: its hand edits are tracked, its imports are set-based SQL that
    # writes no history — tests/loans/test_scope_and_soft_delete.py.)
    assert is_tracked(Loan)
    for model in (Enterprise, CensusRecord, TaxRecord, NegativeListEntry, CreditSnapshot):
        assert not is_tracked(model), model
    assert not is_tracked(ImportBatch)


def test_a_job_s_writes_are_attributed_to_the_user_who_started_it(cast):
    from core import jobs

    @jobs.job_handler("test.history_write", "history write", action="change")
    def handler(job):
        Bank.objects.create(code="JOBBED", name="任务里建的银行")
        return {}

    job = jobs.enqueue("test.history_write", user=cast.staff)
    from core.tasks import run_job

    run_job(job.pk)
    (entry,) = entries(Bank).filter(object_pk="JOBBED")
    assert entry.actor == cast.staff
    assert entry.additional_data["via"] == "job"


def test_only_administrators_find_the_history_in_the_menu(cast, client):
    client.force_login(cast.admin)
    assert reverse("history") in {i["url"] for i in client.get("/").context["nav_items"]}
    client.force_login(cast.staff)
    assert reverse("history") not in {i["url"] for i in client.get("/").context["nav_items"]}


def test_every_tracked_admin_change_page_shows_the_history(cast, admin_client):
    rule_set = RuleSet.current()
    Token.objects.create(user=cast.partner)
    pages = [
        reverse("admin:banks_bank_change", args=[cast.bank.pk]),
        reverse("admin:screening_ruleset_change", args=[rule_set.pk]),
        reverse("admin:accounts_user_change", args=[cast.staff.pk]),
        reverse("admin:accounts_apitoken_change", args=[cast.partner.pk]),  # by user, as DRF's
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert 'class="history-entry"' in response.content.decode(), url


def test_the_history_filters_name_their_empty_choice(admin_client):
    body = admin_client.get("/history/").content.decode()
    assert "---------" not in body
    assert "所有人" in body
