"""Journey 5 — task-force staff: member A checks the five standards of an enterprise on the
application list, cannot approve their own check (and reads why), member B approves, and the
recommendation is pushed to the enterprise's lead bank in a batch (after a confirmation)."""

import re

import pytest
from django.utils import timezone
from django.utils.translation import gettext
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE
from tests.factories import make_tax
from tests.visits.recommendation_helpers import firm_with_lead, record, second_member
from visits.choices import ApplicationStatus, FiveStandard
from visits.models import Application, Recommendation

pytestmark = pytest.mark.e2e


def test_five_standards_check_maker_checker_and_push(page, live_server, login, shot, cast):
    firm = firm_with_lead(cast, name="平阳恒信机械有限公司")
    make_tax(firm, tax_year=2024, credit_rating="A")
    record(firm, note="自有厂房，订单饱满")
    app = Application.objects.get(enterprise=firm)
    member_b = second_member("member_b")

    # Member A: the application list, then the check page with the facts beside each standard.
    login(page, cast.staff, "/visits/applications/")
    row = page.locator(f'#applications tr[data-application="{app.pk}"]')
    expect(row).to_contain_text(firm.name)
    row.get_by_role("link", name=gettext("Check")).click()
    expect(page.locator("h1")).to_have_text(gettext("Five-standards check"))
    expect(page.locator(f'[data-standard="{FiveStandard.GOOD_CREDIT}"]')).to_contain_text(
        "A（2024）"
    )
    expect(page.locator(f'[data-standard="{FiveStandard.LAWFUL_PURPOSE}"]')).to_contain_text(
        "自有厂房，订单饱满"
    )
    # The checklist works on a phone: big checkboxes, the facts under each standard.
    page.set_viewport_size(PHONE)
    for code in FiveStandard.values:
        page.locator(f"#id_{code}").check()
    shot(page, "journey5-check-phone")
    page.set_viewport_size(DESKTOP)
    page.locator("#submit-check").click()
    expect(page).to_have_url(re.compile(r"/visits/applications/$"))
    app.refresh_from_db()
    assert app.status == ApplicationStatus.CHECKED and app.checked_by == cast.staff

    # Member A cannot approve their own check: the refusal is said in words, nothing changes.
    page.goto(f"{live_server.url}/visits/applications/{app.pk}/approve/")
    page.locator("#submit-approve").click()
    expect(page.locator("#form-errors")).to_contain_text(
        gettext(
            "You checked this entry yourself: a second task-force member must approve it "
            "(the same person may not both check and approve)."
        )
    )
    app.refresh_from_db()
    assert app.status == ApplicationStatus.CHECKED
    assert not Recommendation.objects.exists()

    # Member B approves; the enterprise joins the recommendation list of its lead bank.
    page.context.clear_cookies()
    login(page, member_b, f"/visits/applications/{app.pk}/approve/")
    page.locator("#submit-approve").click()
    expect(page).to_have_url(re.compile(r"/visits/recommendations/$"))
    rec = Recommendation.objects.get(enterprise=firm)
    rec_row = page.locator(f'#recommendations tr[data-recommendation="{rec.pk}"]')
    expect(rec_row).to_contain_text(cast.bank.name)
    expect(rec_row).to_contain_text(gettext("Not pushed yet"))

    # Push: choose it, confirm, and the batch of the bank is dated today.
    rec_row.locator("input[name=ids]").check()
    page.locator("#push-chosen").click()
    expect(page.locator("h1")).to_have_text(gettext("Push to the banks"))
    expect(page.locator("main")).to_contain_text(cast.bank.name)
    page.locator("#confirm-push").click()
    expect(page).to_have_url(re.compile(r"/visits/recommendations/batches/$"))
    today = timezone.localdate()
    expect(page.locator("#batches tbody tr").first).to_contain_text(cast.bank.name)
    expect(page.locator("#batches tbody tr").first).to_contain_text(today.strftime("%Y-%m-%d"))
    rec.refresh_from_db()
    assert rec.recommended_on == today and rec.push.bank == cast.bank
    shot(page, "journey5-recommendation-pushed")
