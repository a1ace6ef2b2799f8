"""Journey 4 — a township worker on a phone opens the due-visits list (soonest first, the
overdue one marked, each row opening the visit form for its enterprise); the second-round visit
records a coordination problem (担保不足); the bank that owns it finds the item in its own list,
takes it on and resolves it, and nobody else's desk shows it.

The first visits (weeks ago) are set up the way the visit service records them; the
second-round visit is typed into the visit form in the browser.
"""

import re

import pytest
from django.urls import reverse
from django.utils.translation import gettext
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.factories import PINGYANG_TOWN, make_assignment, make_enterprise
from tests.visits.followhelpers import days, record
from visits.choices import ItemStatus, NeedPurpose, ProblemType, VisitRound
from visits.models import CoordinationItem, DueVisit, Visit

pytestmark = pytest.mark.e2e


def pick(page, name, value):
    """Tick a radio or checkbox of the visit form (drawn as buttons: their label takes the tap)."""
    box = page.locator(f"input[name={name}][value={value}]")
    page.locator(f"label[for={box.get_attribute('id')}]").click()
    expect(box).to_be_checked()


def test_township_worker_due_list_second_visit_with_a_problem_reaches_the_owner(
    page, live_server, login, shot, cast
):
    overdue_firm = make_enterprise(PINGYANG_TOWN, name="平阳鑫达五金有限公司")
    soon_firm = make_enterprise(PINGYANG_TOWN, name="平阳宏远包装有限公司")
    for firm in (overdue_firm, soon_firm):
        make_assignment(firm, cast.bank)
    # first visits that found a need: their follow-ups are due (one is 5 days overdue)
    record(cast.township, overdue_firm, has_need=True, need_amount=80, visited_on=days(-35))
    record(cast.township, soon_firm, has_need=True, need_amount=50, visited_on=days(-20))
    page.set_viewport_size(PHONE)

    # the worker's due list: soonest first, the overdue one marked, nothing scrolls sideways
    login(page, cast.township, next_url=reverse("visits:due"))
    expect(page.locator("h1")).to_have_text(gettext("Due visits"))
    rows = page.locator("#due-visits > li")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(overdue_firm.name)
    expect(rows.nth(0)).to_have_class(re.compile("list-group-item-danger"))
    expect(rows.nth(1)).to_contain_text(soon_firm.name)
    expect(rows.nth(1)).not_to_have_class(re.compile("list-group-item-danger"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the due list scrolls sideways on a phone ({width}px)"
    shot(page, "journey4-due-visits-phone")

    # the row opens the visit form for its enterprise: a second-round visit with a problem
    due = DueVisit.objects.get(enterprise=overdue_firm, done_by__isnull=True)
    rows.nth(0).get_by_role("link", name=gettext("Record visit")).click()
    expect(page).to_have_url(re.compile(rf"/visits/new/\?enterprise={overdue_firm.uscc}"))
    expect(page.locator("input[name=enterprise_q]")).to_have_value(
        re.compile(re.escape(overdue_firm.name))
    )
    pick(page, "round", VisitRound.SECOND.value)
    pick(page, "has_need", "true")
    page.locator("input[name=need_amount]").fill("80")
    pick(page, "need_purpose", NeedPurpose.WORKING_CAPITAL.value)
    pick(page, "problems", ProblemType.INSUFFICIENT_GUARANTEE.value)
    page.locator("textarea[name=note]").fill("缺少担保人")
    page.locator("#visit-submit").click()
    expect(page).to_have_url(re.compile(r"/visits/\d+/$"))
    visit = Visit.objects.get(enterprise=overdue_firm, round=VisitRound.SECOND)
    assert visit.problems == [ProblemType.INSUFFICIENT_GUARANTEE]
    due.refresh_from_db()
    assert due.done_by == visit  # the visit closed the due one

    # back on the due list: the done one left, the visit's own follow-up came (in 30 days)
    page.goto(f"{live_server.url}{reverse('visits:due')}")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(soon_firm.name)
    expect(rows.nth(1)).to_contain_text(overdue_firm.name)
    item = CoordinationItem.objects.get(enterprise=overdue_firm)
    assert item.owner_bank == cast.bank

    # the owner — the bank officer of the branch — sees it in its own list, on a phone
    page.context.clear_cookies()
    login(page, cast.officer, next_url=reverse("visits:my_items"))
    expect(page.locator("h1")).to_have_text(gettext("My items"))
    row = page.locator(f"#item-{item.pk}")
    expect(row).to_contain_text(overdue_firm.name)
    expect(row).to_contain_text(str(ProblemType.INSUFFICIENT_GUARANTEE.label))
    expect(row).to_contain_text(str(ItemStatus.OPEN.label))

    # takes it on, then resolving without saying how is refused, with the input kept
    row.get_by_role("link", name=overdue_firm.name).click()
    expect(page).to_have_url(re.compile(rf"/visits/items/{item.pk}/$"))
    form = page.locator("#item-form")
    form.get_by_label(gettext("Status")).select_option(ItemStatus.IN_PROGRESS.value)
    form.get_by_label(gettext("Description")).fill("已与企业约定下周面谈")
    form.get_by_role("button", name=gettext("Save")).click()
    expect(page.locator(".alert-success")).to_contain_text(gettext("Saved."))
    form.get_by_label(gettext("Status")).select_option(ItemStatus.RESOLVED.value)
    form.get_by_role("button", name=gettext("Save")).click()
    expect(page.locator("#item-form")).to_contain_text(
        gettext("Say how the problem was solved before marking it resolved.")
    )
    expect(form.get_by_label(gettext("Description"))).to_have_value("已与企业约定下周面谈")
    form.get_by_label(gettext("Resolution")).fill("改用信用贷款产品，无需担保")
    form.get_by_role("button", name=gettext("Save")).click()
    expect(page.locator("#item-facts")).to_contain_text(str(ItemStatus.RESOLVED.label))
    item.refresh_from_db()
    assert item.status == ItemStatus.RESOLVED and item.resolved_at is not None

    # another county's staff never reach it
    page.context.clear_cookies()
    login(page, cast.outsider_staff, next_url=reverse("visits:items"))
    expect(page.locator("#items")).not_to_contain_text(overdue_firm.name)
    response = page.goto(f"{live_server.url}{reverse('visits:item', args=[item.pk])}")
    assert response.status == 404

    # the owner's list, last screen
    page.context.clear_cookies()
    login(page, cast.officer, next_url=reverse("visits:my_items") + "?status=all")
    expect(page.locator(f"#item-{item.pk}")).to_contain_text(str(ItemStatus.RESOLVED.label))
    shot(page, "journey4-owner-items-phone")
