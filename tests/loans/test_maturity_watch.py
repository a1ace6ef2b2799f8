"""Issue 15: the maturity watch (到期前一个月未联系) with a frozen clock."""

from datetime import date

import pytest

from core import jobs
from loans.models import LoanRules, MaturityWatch
from loans.services import record_contact, refresh_watch
from tests.factories import make_assignment, make_enterprise, make_loan

from .helpers import record

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)


@pytest.fixture
def firm(cast):
    enterprise = make_enterprise(size="medium")  # medium enterprises are watched too
    make_assignment(enterprise, cast.bank)
    return enterprise


def watched():
    return set(MaturityWatch.objects.values_list("loan__loan_no", flat=True))


def loan(cast, firm, no, matures_on, **extra):
    return make_loan(firm, cast.bank, loan_no=no, disbursed_on=date(2025, 6, 1),
                     matures_on=matures_on, **extra)  # fmt: skip


def test_loans_maturing_within_30_days_without_contact_are_watched(cast, firm):
    loan(cast, firm, "IN-20", date(2026, 6, 21))
    loan(cast, firm, "IN-30", date(2026, 7, 1))
    loan(cast, firm, "TODAY", TODAY)
    loan(cast, firm, "OUT-31", date(2026, 7, 2))
    loan(cast, firm, "PAST", date(2026, 5, 31))
    loan(cast, firm, "REPAID", date(2026, 6, 10), balance=0)
    refresh_watch(today=TODAY)
    assert watched() == {"IN-20", "IN-30", "TODAY"}


def test_the_daily_job_replays_a_given_day(cast, firm):
    loan(cast, firm, "IN-20", date(2026, 6, 21))
    job = jobs.run_now("loans.maturity_watch", params={"today": "2026-06-01"})
    assert job.counts["watched"] == 1
    assert watched() == {"IN-20"}
    jobs.run_now("loans.maturity_watch", params={"today": "2026-05-01"})
    assert watched() == set()


def test_a_recorded_contact_clears_the_loan_at_once_and_for_good(cast, firm):
    due = loan(cast, firm, "IN-20", date(2026, 6, 21))
    refresh_watch(today=TODAY)
    assert watched() == {"IN-20"}
    contact = record_contact(cast.officer, due, {"contacted_on": TODAY, "outcome": "renew"})
    assert watched() == set()
    refresh_watch(today=TODAY)
    assert watched() == set()
    assert contact.created_by == cast.officer


def test_a_recorded_renewal_takes_the_original_off_the_watch(cast, firm):
    original = loan(cast, firm, "IN-20", date(2026, 6, 21))
    refresh_watch(today=TODAY)
    record(cast.officer, firm, cast.bank, "IN-20R", date(2026, 6, 21), date(2027, 6, 21),
           renews=original)  # fmt: skip
    assert "IN-20" not in watched()


def test_the_window_is_configurable_per_county(cast, firm, settings):
    loan(cast, firm, "IN-40", date(2026, 7, 11))
    refresh_watch(today=TODAY)
    assert watched() == set()
    LoanRules.objects.create(region_id="330326", watch_days=45)
    refresh_watch(today=TODAY)
    assert watched() == {"IN-40"}
    settings.LOANS_MATURITY_WATCH_DAYS = 50  # the setting is the default of other counties
    LoanRules.objects.all().delete()
    refresh_watch(today=TODAY)
    assert watched() == {"IN-40"}


def test_another_banks_officer_cannot_record_the_contact(cast, firm):
    from core.writes import OutOfScope
    from tests.factories import make_user

    due = loan(cast, firm, "IN-20", date(2026, 6, 21))
    refresh_watch(today=TODAY)
    stranger = make_user("stranger", "bank_officer", bank=cast.other_bank)
    with pytest.raises(OutOfScope):
        record_contact(stranger, due, {"contacted_on": TODAY, "outcome": "renew"})
    assert watched() == {"IN-20"}


def test_the_officer_sees_the_count_in_the_workspace_and_staff_on_the_attention_page(
    client, cast, firm
):
    loan(cast, firm, "IN-20", date(2026, 6, 21))
    refresh_watch(today=TODAY)
    client.force_login(cast.officer)
    page = client.get("/banks/workspace/").content.decode()
    assert 'id="watch-count">1<' in page
    listing = client.get("/loans/watch/").content.decode()
    assert firm.name in listing
    client.force_login(cast.staff)
    assert 'id="attention-watch-count">1<' in client.get("/banks/attention/").content.decode()
    client.force_login(cast.outsider_staff)
    assert 'id="attention-watch-count">0<' in client.get("/banks/attention/").content.decode()
    assert firm.name not in client.get("/loans/watch/").content.decode()


def test_the_contact_form_records_and_clears(client, cast, firm):
    due = loan(cast, firm, "IN-20", date(2026, 6, 21))
    refresh_watch(today=TODAY)
    client.force_login(cast.officer)
    response = client.post(f"/loans/{due.pk}/contact/", {"contacted_on": "", "outcome": "renew",
                           "note": "约好下周面谈"})  # fmt: skip
    assert response.status_code == 200
    assert "约好下周面谈" in response.content.decode()  # a rejected form keeps what was typed
    response = client.post(
        f"/loans/{due.pk}/contact/", {"contacted_on": "2026-06-01", "outcome": "repay"}
    )
    assert response.status_code == 302
    assert watched() == set()
