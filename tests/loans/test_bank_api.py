"""The idempotent bank API (issue 15): upserts of credit approvals and loans by (bank code, own
id), Idempotency-Key retries (also concurrent), bank-token scope, errors naming the field."""

import threading

import pytest
from auditlog.models import LogEntry
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.choices import Role
from core.models import IdempotencyKey
from loans.models import CreditApproval, Loan
from tests.factories import LUCHENG_STREET, PINGYANG, make_bank, make_enterprise, make_user

pytestmark = pytest.mark.django_db

APPROVALS = "/api/v1/credit-approvals/"
LOANS = "/api/v1/loans/"


@pytest.fixture
def bank_token(cast):
    """The system of 温州银行平阳支行 (PY-BR) and its sub-branches, in 平阳县, allowed to report."""
    user = make_user(
        "py-bank-api", Role.PARTNER, region=PINGYANG, bank=cast.bank, api_scopes="view,report"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client.user = user
    return client


def approval(enterprise, number="A-1", **fields):
    record = {
        "bank_code": "PY-BR",
        "approval_no": number,
        "uscc": enterprise.uscc,
        "approved_on": "2025-06-20",
        "amount": "300",
        "product": "working_capital",
        "term_months": 12,
        "guarantee": "credit",
    }
    record.update(fields)
    return record


def loan(enterprise, number="L-1", **fields):
    record = {
        "bank_code": "PY-BR",
        "loan_no": number,
        "uscc": enterprise.uscc,
        "disbursed_on": "2025-06-25",
        "matures_on": "2026-06-24",
        "amount": "200",
        "balance": "200",
        "product": "working_capital",
        "guarantee": "credit",
        "rate": "3.45",
    }
    record.update(fields)
    return record


def test_posting_the_same_approval_twice_changes_nothing_the_second_time(cast, bank_token):
    enterprise = make_enterprise()
    first = bank_token.post(APPROVALS, approval(enterprise), format="json")
    assert first.status_code == 201, first.content
    assert first.json()["results"][0]["result"] == "created"
    stored = CreditApproval.objects.get()
    assert (stored.enterprise, stored.amount, stored.created_by) == (
        enterprise,
        300,
        bank_token.user,
    )

    def entries():
        return LogEntry.objects.get_for_object(stored)

    assert [e.action for e in entries()] == [LogEntry.Action.CREATE]

    again = bank_token.post(APPROVALS, approval(enterprise), format="json")
    assert again.status_code == 200
    assert again.json()["unchanged"] == 1 and again.json()["results"][0]["id"] == stored.pk
    assert CreditApproval.objects.count() == 1
    assert entries().count() == 1  # no history row for a no-op
    updated_at = stored.updated_at
    stored.refresh_from_db()
    assert stored.updated_at == updated_at

    changed = bank_token.post(APPROVALS, approval(enterprise, amount="350"), format="json")
    assert (changed.status_code, changed.json()["updated"]) == (200, 1)
    stored.refresh_from_db()
    assert stored.amount == 350
    assert [e.action for e in entries()] == [LogEntry.Action.UPDATE, LogEntry.Action.CREATE]


def test_a_bulk_post_upserts_every_record_at_once(cast, bank_token):
    enterprises = [make_enterprise() for _ in range(3)]
    records = [loan(e, f"L-{i}") for i, e in enumerate(enterprises)]
    response = bank_token.post(LOANS, records, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 3
    records[1]["balance"] = "150"
    records.append(
        loan(enterprises[0], "L-9", is_renewal=True, renews_loan_no="L-0", disbursed_on="2026-06-24",
             matures_on="2027-06-23")
    )  # fmt: skip
    response = bank_token.post(LOANS, records, format="json")
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 2)
    assert [r["result"] for r in body["results"]] == [
        "unchanged",
        "updated",
        "unchanged",
        "created",
    ]
    renewal = Loan.objects.get(loan_no="L-9")
    assert renewal.renews == Loan.objects.get(loan_no="L-0")
    assert Loan.objects.get(loan_no="L-1").balance == 150


def test_invalid_records_name_the_field_in_chinese_and_english_and_write_nothing(cast, bank_token):
    enterprise = make_enterprise()
    bad = [
        loan(enterprise, "L-1", matures_on="2025-06-01"),
        loan(enterprise, "L-2", renews_loan_no="L-2", is_renewal=True),
        loan(enterprise, "L-3", amount="-5", product="mortgage-ish"),
        loan(enterprise, "L-3"),
    ]
    chinese = bank_token.post(LOANS, bad, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 400
    errors = [(e["index"], e["field"]) for e in chinese.json()["errors"]]
    assert errors == [
        (0, "matures_on"),
        (1, "renews_loan_no"),
        (2, "amount"),
        (2, "product"),
        (3, "loan_no"),
    ]
    assert chinese.json()["errors"][0]["message"] == "到期日期: 到期日期不晚于放款日期。"
    english = bank_token.post(LOANS, bad, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["errors"][0]["message"] == (
        "matures on: Matures on or before its disbursement date."
    )
    assert english.json()["errors"][2]["label"] == "amount (10k yuan)"
    assert not Loan.objects.exists()


def test_a_bank_token_writes_only_its_own_banks_and_sub_branches_records(cast, bank_token):
    outlet = make_bank(code="PY-BR-01", name="温州银行平阳支行昆阳网点", parent=cast.bank)
    mine, theirs = make_enterprise(), make_enterprise(region=LUCHENG_STREET)
    ok = bank_token.post(APPROVALS, approval(mine, bank_code=outlet.code), format="json")
    assert ok.status_code == 201
    other_bank = bank_token.post(
        APPROVALS, [approval(mine, "A-2"), approval(mine, "A-3", bank_code="RA-BR")], format="json"
    )
    assert other_bank.status_code == 403
    assert [(e["index"], e["field"]) for e in other_bank.json()["errors"]] == [(1, "bank_code")]
    outside = bank_token.post(APPROVALS, approval(theirs, "A-4"), format="json")
    assert outside.status_code == 400
    assert outside.json()["errors"][0]["field"] == "uscc"
    assert list(CreditApproval.objects.values_list("bank", flat=True)) == ["PY-BR-01"]
    # Reading: its own bank's rows only.
    assert [r["bank_code"] for r in bank_token.get(APPROVALS).json()["results"]] == ["PY-BR-01"]


def test_who_may_write_through_the_bank_api(cast):
    enterprise = make_enterprise()
    for user, expected in [
        (cast.staff, 403),  # task force: no ``report``
        (cast.regulator, 403),
        (cast.partner, 403),  # a token without ``report``
        (cast.officer, 201),
        (cast.admin, 201),
    ]:
        client = APIClient()
        client.force_authenticate(user)
        number = f"A-{user.username}"
        response = client.post(APPROVALS, approval(enterprise, number), format="json")
        assert response.status_code == expected, (user.username, response.content)
    assert APIClient().post(APPROVALS, approval(enterprise), format="json").status_code == 403


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(cast, bank_token):
    enterprise = make_enterprise()
    first = bank_token.post(LOANS, loan(enterprise), format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == 201
    Loan.objects.update(balance=1)  # a later change by someone else: the retry must not undo it
    retry = bank_token.post(LOANS, loan(enterprise), format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert retry["Idempotent-Replayed"] == "true"
    assert Loan.objects.get().balance == 1
    other = bank_token.post(
        LOANS, loan(enterprise, amount="999"), format="json", HTTP_IDEMPOTENCY_KEY="retry-1"
    )
    assert other.status_code == 422
    assert IdempotencyKey.objects.count() == 1


def test_kept_answers_are_purged_after_a_week_and_the_key_works_again(cast, bank_token):
    from datetime import timedelta

    from django.utils import timezone

    from core.tasks import purge_idempotency_keys

    enterprise = make_enterprise()
    bank_token.post(LOANS, loan(enterprise), format="json", HTTP_IDEMPOTENCY_KEY="old")
    bank_token.post(LOANS, loan(enterprise), format="json", HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(days=7, minutes=1)
    )
    assert purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    # the purged key is a new request again (the loan itself is unchanged: nothing written)
    again = bank_token.post(LOANS, loan(enterprise), format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 200 and "Idempotent-Replayed" not in again
    assert Loan.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency needs PostgreSQL")
@pytest.mark.parametrize("key", [None, "same-key"])
def test_two_identical_requests_at_once_write_one_record(regions, key):
    from tests.factories import Cast

    cast = Cast.create()
    user = make_user("py-bank-api", Role.PARTNER, region=PINGYANG, bank=cast.bank,
                     api_scopes="view,report")  # fmt: skip
    token = Token.objects.create(user=user).key
    enterprise = make_enterprise()
    records = [loan(enterprise, f"L-{i}") for i in range(200)]
    answers, barrier = [], threading.Barrier(2)
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key

    def send():
        client = APIClient()
        barrier.wait()
        try:
            answers.append(client.post(LOANS, records, format="json", **headers))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) in ([200, 201], [201, 201])
    assert Loan.objects.count() == 200
    created = sum(a.json()["created"] for a in answers)
    if key:
        # The second waited for the first and replayed its answer.
        assert answers[0].json() == answers[1].json() and created == 400
    else:
        assert created == 200


def test_a_first_loan_sent_by_a_bank_system_moves_the_enterprise_stage(
    cast, bank_token, django_capture_on_commit_callbacks
):
    from core.models import Job
    from loans.models import EnterpriseStage, StageChange

    enterprise = make_enterprise()
    with django_capture_on_commit_callbacks(execute=True):
        response = bank_token.post(LOANS, [loan(enterprise)], format="json")
        assert response.status_code == 201
        # The answer does not wait for the stages: a job recomputes them after the commit.
        assert not EnterpriseStage.objects.filter(enterprise=enterprise).exists()
    job = Job.objects.get(kind="loans.sent_loans")
    assert (job.status, job.created_by) == ("succeeded", bank_token.user)
    assert job.counts == {"stage_changes": 1, "watched": 0}
    stored = Loan.objects.get()
    stage = EnterpriseStage.objects.get(enterprise=enterprise)
    assert (stage.stage, stage.first_loan_id) == ("first_loan", stored.pk)
    assert StageChange.objects.filter(enterprise=enterprise, to_stage="first_loan").exists()
    stored.refresh_from_db()
    assert stored.is_first_loan


def test_loans_sent_by_a_bank_system_are_in_the_change_history(cast, bank_token):
    enterprise = make_enterprise()
    assert bank_token.post(LOANS, [loan(enterprise)], format="json").status_code == 201
    stored = Loan.objects.get()

    def entries():
        return LogEntry.objects.get_for_object(stored)

    (created,) = entries()
    assert (created.action, created.actor) == (LogEntry.Action.CREATE, bank_token.user)
    assert created.additional_data["via"] == "token"
    assert created.additional_data["token"]  # which token: its fingerprint
    assert created.remote_addr == "127.0.0.1"
    assert created.object_repr == "PY-BR/L-1"

    assert bank_token.post(LOANS, [loan(enterprise)], format="json").status_code == 200
    assert entries().count() == 1  # sent again unchanged: no entry
    assert (
        bank_token.post(LOANS, [loan(enterprise, balance="150")], format="json").status_code == 200
    )
    assert [e.action for e in entries()] == [LogEntry.Action.UPDATE, LogEntry.Action.CREATE]
