"""Issue 15: bank officers record only for their branch's enterprises; soft deletion hides a
loan from every read and stays in the change history."""

from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError

from core.writes import OutOfScope
from loans.models import CreditApproval, Loan, MaturityWatch
from loans.services import delete_loan, record_approval, record_loan, refresh_watch
from tests.factories import make_assignment, make_enterprise, make_loan, make_user

from .helpers import loan_data, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm(cast):
    enterprise = make_enterprise()
    make_assignment(enterprise, cast.bank)
    return enterprise


def approval(enterprise, bank, no="S-1", **extra):
    data = {
        "enterprise": enterprise,
        "bank": bank,
        "approval_no": no,
        "approved_on": date(2026, 3, 1),
        "amount": Decimal("300"),
        "product": "working_capital",
        "term_months": 12,
        "guarantee": "credit",
    }
    data.update(extra)
    return data


def test_an_officer_records_an_approval_for_an_enterprise_of_the_branch(cast, firm):
    saved = record_approval(cast.officer, approval(firm, cast.bank))
    assert (saved.created_by, saved.bank_id, saved.amount) == (cast.officer, "PY-BR", 300)
    assert LogEntry.objects.get_for_object(saved).filter(action=LogEntry.Action.CREATE).exists()


@pytest.mark.parametrize("term", [0, 361])
def test_an_approval_term_outside_1_to_360_months_is_refused(cast, firm, term):
    with pytest.raises(ValidationError) as caught:
        record_approval(cast.officer, approval(firm, cast.bank, term_months=term))
    assert "term_months" in caught.value.message_dict


def test_another_banks_enterprise_is_refused_and_invisible(client, cast):
    theirs = make_enterprise()
    make_assignment(theirs, cast.other_bank)
    with pytest.raises(ValidationError) as caught:
        record_approval(cast.officer, approval(theirs, cast.bank))
    assert "enterprise" in caught.value.message_dict
    with pytest.raises(ValidationError):
        record(cast.officer, theirs, cast.bank, "X-1")
    # Recording in the other bank's name is refused too.
    mine = make_enterprise()
    make_assignment(mine, cast.bank)
    with pytest.raises(ValidationError) as caught:
        record(cast.officer, mine, cast.other_bank, "X-2")
    assert "bank" in caught.value.message_dict
    assert not Loan.objects.exists() and not CreditApproval.objects.exists()
    # Their loan is neither visible nor changeable.
    their_loan = make_loan(theirs, cast.other_bank)
    client.force_login(cast.officer)
    assert client.get(f"/loans/{their_loan.pk}/edit/").status_code == 404
    assert client.post(f"/loans/{their_loan.pk}/delete/").status_code == 404
    assert client.get(f"/loans/{their_loan.pk}/contact/").status_code == 404
    response = client.post("/loans/approvals/new/", {"enterprise": theirs.pk, "bank": "PY-BR",
                           "approval_no": "Z", "approved_on": "2026-03-01", "amount": "5"})  # fmt: skip
    assert response.status_code == 200 and not CreditApproval.objects.exists()


@pytest.mark.parametrize("who", ["staff", "township", "regulator", "partner"])
def test_roles_without_the_report_right_cannot_record(client, cast, firm, who):
    user = getattr(cast, who)
    with pytest.raises(OutOfScope):
        record_approval(user, approval(firm, cast.bank))
    client.force_login(user)
    assert client.get("/loans/approvals/new/").status_code == 403
    assert client.get("/loans/new/").status_code == 403


def test_maturity_before_disbursement_is_a_clear_field_error(client, cast, firm):
    with pytest.raises(ValidationError) as caught:
        record_loan(cast.officer, loan_data(firm, cast.bank, "A-1", date(2026, 3, 1),
                    date(2026, 2, 1)))  # fmt: skip
    assert list(caught.value.message_dict) == ["matures_on"]
    client.force_login(cast.officer)
    response = client.post("/loans/new/", {"enterprise": firm.pk, "bank": "PY-BR",
                           "loan_no": "A-1", "disbursed_on": "2026-03-01",
                           "matures_on": "2026-02-01", "amount": "88.5",
                           "product": "working_capital", "guarantee": "credit"})  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-matures_on"' in page
    assert 'value="88.5"' in page and 'value="A-1"' in page  # what was typed is kept
    assert not Loan.objects.exists()


def test_the_officer_records_a_loan_through_the_form(client, cast, firm):
    client.force_login(cast.officer)
    assert client.get(f"/loans/new/?enterprise={firm.pk}").status_code == 200
    response = client.post("/loans/new/", {"enterprise": firm.pk, "bank": "PY-BR",
                           "loan_no": "A-1", "disbursed_on": "2026-03-01",
                           "matures_on": "2027-03-01", "amount": "88.5",
                           "product": "working_capital", "guarantee": "credit"})  # fmt: skip
    assert response.status_code == 302
    page = client.get(f"/enterprises/{firm.pk}/").content.decode()
    assert "A-1" in page and 'id="loan-stage"' in page


def test_hand_edits_of_a_loan_are_in_the_change_history(cast, firm):
    loan = record(cast.officer, firm, cast.bank, "A-1", date(2026, 3, 1))
    record_loan(cast.officer, loan_data(firm, cast.bank, "A-1", loan.disbursed_on,
                loan.matures_on, amount="120"), instance=loan)  # fmt: skip
    entries = LogEntry.objects.get_for_object(loan).order_by("pk")
    update = entries.filter(action=LogEntry.Action.UPDATE).last()
    assert update is not None and "amount" in update.changes_dict


def test_imported_loans_write_no_history_rows(cast, firm, tmp_path):
    from enterprises.importing import import_file
    from tests.enterprises.helpers import write_csv

    header = ["统一社会信用代码", "银行机构代码", "借据号", "放款日期", "到期日期",
              "放款金额（万元）", "产品类型", "担保方式"]  # fmt: skip
    path = write_csv(tmp_path / "l.csv", header, [[firm.uscc, "PY-BR", "IMP-1", "2026-02-01",
                     "2027-02-01", "100", "流动资金贷款", "信用"]])  # fmt: skip
    before = LogEntry.objects.count()
    assert import_file("loans", path, file_name="l.csv").status == "applied"
    assert LogEntry.objects.filter(content_type__model="loan").count() == 0
    assert LogEntry.objects.count() == before


def test_a_deleted_loan_is_gone_from_every_read_and_in_the_history(client, cast, firm):
    loan = record(cast.officer, firm, cast.bank, "A-1", date(2026, 5, 1), date(2026, 6, 15))
    refresh_watch(today=date(2026, 6, 1))
    assert MaturityWatch.objects.filter(loan=loan).exists()
    delete_loan(cast.officer, loan)
    stored = Loan.all_objects.get(pk=loan.pk)
    assert stored.deleted_by == cast.officer and stored.deleted_at is not None
    assert not Loan.objects.filter(pk=loan.pk).exists()
    assert not firm.loans.exists()
    assert not MaturityWatch.objects.filter(loan_id=loan.pk).exists()
    update = LogEntry.objects.get_for_object(stored).filter(action=LogEntry.Action.UPDATE).last()
    assert "deleted_at" in update.changes_dict
    # The API, the enterprise page and the home counts no longer show it.
    client.force_login(cast.admin)
    assert client.get("/api/v1/loans/").json()["count"] == 0
    assert "A-1" not in client.get(f"/enterprises/{firm.pk}/").content.decode()


@pytest.mark.postgres
def test_a_deleted_loan_does_not_count_in_the_screening_lists(cast, firm):
    from datetime import date as d

    from screening.services.sql import FACTS_SQL

    # The set-based screening SQL reads loans_loan by name: it must skip deleted rows.
    assert FACTS_SQL.count("deleted_at IS NULL") == 2
    del d


def test_the_enterprise_link_of_a_deleted_loan_no_longer_grants_scope(cast):
    firm = make_enterprise()
    loan = make_loan(firm, cast.bank)  # borrowing: in the officer's scope
    from enterprises.models import Enterprise

    assert Enterprise.objects.restrict(cast.officer).filter(pk=firm.pk).exists()
    make_user("boss", "admin", is_superuser=True)
    Loan.objects.filter(pk=loan.pk).update(deleted_at="2026-01-01T00:00:00+08:00")
    assert not Enterprise.objects.restrict(cast.officer).filter(pk=firm.pk).exists()


def test_the_officer_records_an_approval_from_the_workspace(client, cast, firm):
    client.force_login(cast.officer)
    workspace = client.get("/banks/workspace/").content.decode()
    assert 'id="workspace-record-approval" href="/loans/approvals/new/"' in workspace
    form = client.get(f"/loans/approvals/new/?enterprise={firm.pk}").content.decode()
    assert 'type="date"' in form and 'inputmode="decimal"' in form
    response = client.post("/loans/approvals/new/", {"enterprise": firm.pk, "bank": "PY-BR",
                           "approval_no": "SX-9", "approved_on": "2026-03-01", "amount": "250",
                           "term_months": "12"})  # fmt: skip
    assert response.status_code == 302
    saved = CreditApproval.objects.get(approval_no="SX-9")
    assert (saved.enterprise, saved.amount, saved.created_by) == (firm, 250, cast.officer)
    assert "SX-9" in client.get(f"/enterprises/{firm.pk}/").content.decode()
    # … and changes it from there: the link is on the page, for its own branch's only
    saved_id = saved.pk
    page = client.get(f"/enterprises/{firm.pk}/").content.decode()
    assert f'href="/loans/approvals/{saved_id}/edit/"' in page
    theirs = record_approval(cast.admin, approval(firm, cast.other_bank, no="SX-OTHER"))
    page = client.get(f"/enterprises/{firm.pk}/").content.decode()
    assert f'href="/loans/approvals/{theirs.pk}/edit/"' not in page


def test_days_to_loan_on_the_page_count_only_the_loans_the_reader_may_see(client, cast, firm):
    """Another bank's loan after the recommendation to my branch must not show its date to me."""
    from visits.models import Recommendation

    Recommendation.objects.create(enterprise=firm, bank=cast.bank, recommended_on=date(2026, 1, 5))
    make_loan(
        firm,
        cast.other_bank,
        disbursed_on=date(2026, 2, 17),
        matures_on=date(2027, 2, 17),
        loan_no="THEIRS-1",
    )
    client.force_login(cast.officer)
    page = client.get(f"/enterprises/{firm.pk}/").content.decode()
    ttl = page.split('id="ttl-recommendation"')[1].split("</dd>")[0]
    assert "2026-02-17" not in ttl and "43" not in ttl
    client.force_login(cast.staff)
    page = client.get(f"/enterprises/{firm.pk}/").content.decode()
    assert "2026-02-17" in page.split('id="ttl-recommendation"')[1].split("</dd>")[0]


@pytest.mark.parametrize("who", ["other_officer", "staff", "outsider_staff", "regulator"])
def test_only_the_owning_branch_changes_or_deletes_an_approval(client, cast, firm, who):
    saved = record_approval(cast.officer, approval(firm, cast.bank, no="SX-OWN"))
    edit, delete = f"/loans/approvals/{saved.pk}/edit/", f"/loans/approvals/{saved.pk}/delete/"
    if who == "other_officer":
        user = make_user("ra-officer", "bank_officer", bank=cast.other_bank)
    else:
        user = getattr(cast, who)
    client.force_login(user)
    assert client.get(edit).status_code in (403, 404)
    assert client.post(edit, {"approval_no": "SX-HIJACK"}).status_code in (403, 404)
    assert client.post(delete).status_code in (403, 404)
    saved.refresh_from_db()
    assert (saved.approval_no, saved.deleted_at) == ("SX-OWN", None)


def test_the_owning_officer_opens_changes_and_soft_deletes_an_approval(client, cast, firm):
    saved = record_approval(cast.officer, approval(firm, cast.bank, no="SX-OWN"))
    client.force_login(cast.officer)
    assert client.get(f"/loans/approvals/{saved.pk}/edit/").status_code == 200
    assert client.post(f"/loans/approvals/{saved.pk}/delete/").status_code == 302
    assert not CreditApproval.objects.filter(pk=saved.pk).exists()  # hidden by the manager
    assert CreditApproval.all_objects.get(pk=saved.pk).deleted_by == cast.officer
