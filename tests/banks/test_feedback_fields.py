"""What a bank must say with its answer: 不予授信 a reason code and an explanation, 已授信 the
amount and product; on the service, the feedback page, the API and in the change history."""

from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.choices import Role
from banks.choices import AssignmentStatus, CreditProduct
from banks.models import BankAssignment, BankFeedback
from banks.services.feedback import record_feedback
from core.history import acting_as
from loans.choices import LoanProduct
from tests.factories import LUCHENG_STREET, make_enterprise, make_user

from .pairs import make_pair

pytestmark = pytest.mark.django_db

FUTURE = date(2099, 1, 1)


def token_client(user, language="zh-hans"):
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_the_credit_products_are_the_loan_products():
    # banks may not import loans: the copy in banks.choices must not drift from the original
    assert CreditProduct.choices == LoanProduct.choices


def test_declining_needs_a_listed_reason_code_and_an_explanation(cast):
    lead, _backup = make_pair(cast.bank, cast.other_bank, due_on=FUTURE)
    with pytest.raises(ValidationError) as error:
        record_feedback(cast.officer, lead, "declined", "", decline_reason="")
    assert error.value.message_dict == {
        "decline_reason": ["请选择不予授信的原因。"],
        "reason": ["请填写不予授信的原因。"],
    }
    # the stricter rule of the screens: an explanation even for a listed reason
    with pytest.raises(ValidationError) as error:
        record_feedback(cast.officer, lead, "declined", "", decline_reason="poor_credit")
    assert list(error.value.message_dict) == ["reason"]
    with pytest.raises(ValidationError) as error:
        record_feedback(cast.officer, lead, "declined", "x", decline_reason="bad_luck")
    assert list(error.value.message_dict) == ["decline_reason"]
    # a reason code goes only with a decline
    with pytest.raises(ValidationError) as error:
        record_feedback(cast.officer, lead, "contacted", "", decline_reason="poor_credit")
    assert list(error.value.message_dict) == ["decline_reason"]
    assert not BankFeedback.objects.exists()

    record_feedback(cast.officer, lead, "declined", "近两年逾期三次", decline_reason="poor_credit")
    feedback = BankFeedback.objects.get()
    assert (feedback.decline_reason, feedback.reason) == ("poor_credit", "近两年逾期三次")
    assert feedback.get_decline_reason_display() == "信用记录不良"
    lead.refresh_from_db()
    assert lead.status == AssignmentStatus.HANDED_OFF


def test_credit_granted_needs_an_amount_above_zero_and_a_product(cast):
    lead, _backup = make_pair(cast.bank, cast.other_bank, due_on=FUTURE)
    with pytest.raises(ValidationError) as error:
        record_feedback(cast.officer, lead, "credited")
    assert error.value.message_dict == {
        "credit_amount": ["请填写授信金额（万元）。"],
        "credit_product": ["请选择授信产品。"],
    }
    for amount in ("0", "-5", "abc"):
        with pytest.raises(ValidationError) as error:
            record_feedback(cast.officer, lead, "credited", credit_amount=amount,
                            credit_product="working_capital")  # fmt: skip
        assert list(error.value.message_dict) == ["credit_amount"], amount
    with pytest.raises(ValidationError) as error:
        record_feedback(cast.officer, lead, "accepted", credit_amount="100",
                        credit_product="fixed_asset")  # fmt: skip
    assert sorted(error.value.message_dict) == ["credit_amount", "credit_product"]
    assert not BankFeedback.objects.exists()

    record_feedback(
        cast.officer, lead, "credited", credit_amount="1,250.5", credit_product="fixed_asset"
    )
    feedback = BankFeedback.objects.get()
    assert (feedback.credit_amount, feedback.credit_product) == (Decimal("1250.5"), "fixed_asset")
    lead.refresh_from_db()
    assert lead.status == AssignmentStatus.CREDITED


def test_the_feedback_page_keeps_what_was_typed_and_names_each_missing_field(client, cast):
    lead, _backup = make_pair(cast.bank, cast.other_bank, due_on=FUTURE, name="甲制造有限公司")
    url = f"/banks/workspace/{lead.pk}/answer/"
    client.force_login(cast.officer)
    assert client.get(url).status_code == 200

    response = client.post(url, {"status": "declined", "reason": "", "credit_amount": "88"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "请选择不予授信的原因。" in content and "请填写不予授信的原因。" in content
    assert "金额只用于" in content  # an amount goes only with 已授信
    assert 'value="88"' in content  # kept
    form = response.context["form"]
    assert form["status"].value() == "declined"
    assert not BankFeedback.objects.exists()

    response = client.post(
        url, {"status": "credited", "credit_amount": "300", "credit_product": "working_capital"}
    )
    assert response.status_code == 302 and response["Location"] == "/banks/workspace/"
    feedback = BankFeedback.objects.get()
    assert (feedback.status, feedback.credit_amount, feedback.created_by) == (
        "credited",
        Decimal("300"),
        cast.officer,
    )
    # the earlier answers are listed on the page
    content = client.get(url).content.decode()
    assert "流动资金贷款" in content and "300" in content


def test_the_feedback_page_for_every_role(client, cast):
    lead, backup = make_pair(cast.bank, cast.other_bank, due_on=FUTURE)
    their_lead, standing_by = make_pair(cast.other_bank, cast.bank, due_on=FUTURE)
    ra_officer = make_user("ra", Role.BANK_OFFICER, bank=cast.other_bank)
    post = {"status": "contacted"}
    # not a bank user: 403 to read and to write
    for user in (cast.staff, cast.city_staff, cast.township, cast.regulator, cast.admin):
        client.force_login(user)
        assert client.get(f"/banks/workspace/{lead.pk}/answer/").status_code == 403
        assert client.post(f"/banks/workspace/{lead.pk}/answer/", post).status_code == 403
    # another bank's row, or one we only stand by for: 404
    client.force_login(cast.officer)
    for other in (their_lead, standing_by, backup):
        assert client.get(f"/banks/workspace/{other.pk}/answer/").status_code == 404
        assert client.post(f"/banks/workspace/{other.pk}/answer/", post).status_code == 404
    client.force_login(ra_officer)
    assert client.post(f"/banks/workspace/{lead.pk}/answer/", post).status_code == 404
    assert not BankFeedback.objects.exists()
    # the link by enterprise (used by the recommendation list) leads to my open assignment
    client.force_login(cast.officer)
    response = client.get(f"/banks/feedback/enterprise/{lead.enterprise_id}/")
    assert response["Location"] == f"/banks/workspace/{lead.pk}/answer/"
    assert client.get(f"/banks/feedback/enterprise/{their_lead.enterprise_id}/").status_code == 404


def test_feedback_and_the_clock_it_starts_are_in_the_change_history(cast, frozen_today):
    lead, _backup = make_pair(cast.bank, cast.other_bank, due_on=FUTURE)
    with acting_as(cast.officer):
        accepted = record_feedback(cast.officer, lead, "accepted",
                                   materials_complete_on=frozen_today.today())  # fmt: skip
        credited = record_feedback(cast.officer, lead, "credited", credit_amount="50",
                                   credit_product="other")  # fmt: skip
    feedback_type = ContentType.objects.get_for_model(BankFeedback)
    created = LogEntry.objects.get(content_type=feedback_type, object_pk=str(credited.pk))
    assert created.actor == cast.officer
    assert created.changes_dict["credit_amount"] == [None, "50"]
    assert created.changes_dict["credit_product"][1] == "other"
    first = LogEntry.objects.get(content_type=feedback_type, object_pk=str(accepted.pk))
    assert first.changes_dict["materials_complete_on"] == [None, "2025-06-02"]
    changes = [
        entry.changes_dict
        for entry in LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(BankAssignment), object_pk=str(lead.pk)
        ).order_by("timestamp", "pk")
    ]
    assert changes[-2]["decision_due_on"] == [None, "2025-07-02"]
    assert changes[-1]["decided_on"] == [None, "2025-06-02"]
    assert changes[-1]["status"] == ["accepted", "credited"]


# --- API ------------------------------------------------------------------------------------


@pytest.fixture
def token(cast):
    return make_user("py-bank", Role.PARTNER, bank=cast.bank, api_scopes="view,report")


def test_the_api_takes_the_new_fields(cast, token):
    lead, _backup = make_pair(cast.bank, cast.other_bank, due_on=FUTURE)
    url = f"/api/v1/assignments/{lead.pk}/feedback/"
    response = token_client(token).post(
        url,
        {"status": "credited", "credit_amount": "120.50", "credit_product": "acceptance_bill"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["credit_amount"], body["credit_product"], body["bank_code"]) == (
        "120.500000",
        "acceptance_bill",
        "PY-BR",
    )
    assert body["enterprise_uscc"] == lead.enterprise.uscc
    listed = token_client(token).get("/api/v1/feedback/").json()
    assert [item["id"] for item in listed["results"]] == [body["id"]]


def test_api_field_errors_in_chinese_and_in_english(cast, token):
    lead, _backup = make_pair(cast.bank, cast.other_bank, due_on=FUTURE)
    url = f"/api/v1/assignments/{lead.pk}/feedback/"
    data = {"status": "declined", "reason": ""}
    chinese = token_client(token).post(url, data, format="json")
    assert chinese.status_code == 400
    assert chinese.json() == {
        "decline_reason": ["请选择不予授信的原因。"],
        "reason": ["请填写不予授信的原因。"],
    }
    english = token_client(token, "en").post(url, data, format="json")
    assert english.json() == {
        "decline_reason": ["Choose the reason credit was declined."],
        "reason": ["Give the reason credit was declined."],
    }
    wrong = token_client(token, "en").post(
        url, {"status": "credited", "credit_product": "gold"}, format="json"
    )
    assert list(wrong.json()) == ["credit_product"]
    assert "gold" in wrong.json()["credit_product"][0]
    assert not BankFeedback.objects.exists()


def test_the_feedback_list_shows_each_caller_only_its_scope(cast, token):
    ours, _ = make_pair(cast.bank, cast.other_bank, due_on=FUTURE)
    their_lead, _ = make_pair(cast.other_bank, cast.bank, due_on=FUTURE)
    far_lead, _ = make_pair(
        cast.other_bank, cast.bank, due_on=FUTURE, enterprise=make_enterprise(LUCHENG_STREET)
    )
    ra_officer = make_user("ra", Role.BANK_OFFICER, bank=cast.other_bank)
    mine = record_feedback(cast.officer, ours, "contacted")
    theirs = record_feedback(ra_officer, their_lead, "contacted")
    far = record_feedback(ra_officer, far_lead, "contacted")

    def ids(user):
        response = token_client(user).get("/api/v1/feedback/")
        assert response.status_code == 200
        return sorted(item["id"] for item in response.json()["results"])

    assert ids(token) == [mine.pk]
    assert ids(cast.officer) == [mine.pk]
    assert ids(ra_officer) == sorted([theirs.pk, far.pk])
    assert ids(cast.staff) == sorted([mine.pk, theirs.pk])
    assert ids(cast.regulator) == sorted([mine.pk, theirs.pk])
    assert ids(cast.outsider_staff) == [far.pk]
    assert ids(cast.admin) == sorted([mine.pk, theirs.pk, far.pk])
    assert token_client(token).get(f"/api/v1/feedback/{theirs.pk}/").status_code == 404
    # read-only for everyone: answers go through the assignment
    assert token_client(cast.admin).post("/api/v1/feedback/", {}).status_code == 405
