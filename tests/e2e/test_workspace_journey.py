"""Journey 3, in part — a bank officer on a phone (375×812): the home page is the workspace of
the branch's enterprises with their feedback deadlines, nothing of another bank's; one-click
feedback on a row (已联系, then 已受理) changes the row's status in place.

Then the officer records a credit approval from the workspace's button, on
the same phone screen. The visit with a financing need and its offline draft are
tests/e2e/test_visit_journey.py.
"""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from playwright.sync_api import expect

from banks.choices import AssignmentStatus, FeedbackStatus
from banks.models import BankFeedback
from core.workdays import add_working_days
from loans.models import CreditApproval
from tests.e2e.conftest import PHONE
from tests.factories import PINGYANG_TOWN, make_assignment, make_enterprise

pytestmark = pytest.mark.e2e


def _assign(bank, name, role="lead", due_in=None, status=AssignmentStatus.PENDING):
    enterprise = make_enterprise(PINGYANG_TOWN, name=name)
    assignment = make_assignment(enterprise, bank, role=role)
    assignment.status = status
    if due_in is not None:
        assignment.due_on = add_working_days(timezone.localdate(), due_in)
    assignment.save()
    return assignment


def test_officer_workspace_on_a_phone_with_one_click_feedback(page, live_server, login, shot, cast):
    mine = [
        _assign(cast.bank, "平阳鑫达五金有限公司", due_in=2),
        _assign(cast.bank, "平阳宏远包装有限公司", due_in=5),
        _assign(cast.bank, "平阳瑞丰塑业有限公司", due_in=8),
    ]
    others = _assign(cast.other_bank, "平阳他行对接纺织有限公司", due_in=3)
    standby = _assign(
        cast.bank, "平阳备选待命电器有限公司", role="backup", status=AssignmentStatus.WAITING
    )
    page.set_viewport_size(PHONE)

    # the officer's home is the workspace
    login(page, cast.officer)
    expect(page).to_have_url(re.compile(r"/banks/workspace/$"))
    expect(page.locator("h1")).to_have_text(gettext("My enterprises"))

    # only the branch's own enterprises, soonest deadline first, each with its due date
    rows = page.locator("#assignments tbody tr")
    expect(rows).to_have_count(len(mine))
    for row, assignment in zip(rows.all(), mine, strict=True):
        expect(row).to_contain_text(assignment.enterprise.name)
        expect(row).to_contain_text(assignment.due_on.strftime("%Y-%m-%d"))
        expect(row).to_contain_text(str(AssignmentStatus.PENDING.label))
    content = page.content()
    assert others.enterprise.name not in content and others.enterprise.uscc not in content
    assert standby.enterprise.name not in content  # a backup standing by is not theirs yet

    # one-click feedback on the first row: the row is answered in place (htmx), no reload
    first = mine[0]
    row = page.locator(f"#assignment-{first.pk}")
    url = page.url
    for status in (FeedbackStatus.CONTACTED, FeedbackStatus.ACCEPTED):
        row.get_by_role("combobox", name=gettext("Feedback")).select_option(status.value)
        row.get_by_role("textbox", name=gettext("Reason or note")).fill(f"{status.label}：电话确认")
        row.get_by_role("button", name=gettext("Answer")).click()
        expect(row.locator("td").nth(3)).to_contain_text(str(status.label))
        expect(row).to_contain_text(gettext("Saved."))
        assert page.url == url
        first.refresh_from_db()
        assert first.status == status
    assert list(BankFeedback.objects.filter(assignment=first).values_list("status", flat=True)) == [
        FeedbackStatus.ACCEPTED,
        FeedbackStatus.CONTACTED,
    ]
    # the clock stopped: no working days left shown any more
    expect(row.locator("td").nth(5)).to_have_text("—")

    # after a reload the answer stays, and the other rows still await contact
    page.goto(f"{live_server.url}{reverse('banks:workspace')}")
    expect(page.locator(f"#assignment-{first.pk} td").nth(3)).to_have_text(
        str(FeedbackStatus.ACCEPTED.label)
    )
    for assignment in mine[1:]:
        expect(page.locator(f"#assignment-{assignment.pk} td").nth(3)).to_have_text(
            str(AssignmentStatus.PENDING.label)
        )
    shot(page, "journey3-workspace-phone")

    # a credit approval for that enterprise, recorded from the workspace on the phone
    page.locator("#workspace-record-approval").click()
    page.get_by_label(gettext("Enterprise")).select_option(str(first.enterprise.pk))
    page.get_by_label(gettext("Approval number")).fill("SX-2026-0001")
    page.get_by_label(gettext("Amount (10k yuan)")).fill("300")
    page.get_by_role("button", name=gettext("Save")).click()
    approval = CreditApproval.objects.get(bank=cast.bank, approval_no="SX-2026-0001")
    assert approval.enterprise == first.enterprise and str(approval.amount) == "300.000000"
    assert approval.approved_on == timezone.localdate()
    shot(page, "journey3-approval-phone")
