"""Journey 3, the visit — a bank officer on a phone (375×812) opens an enterprise handed to
the branch, records a visit with a financing need, and the network drops mid-form: the draft
survives a reload, is kept when the submit cannot reach the server, and is sent exactly once
when the connection is back (and sending it again makes no second visit)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.translation import gettext
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.factories import PINGYANG_TOWN, make_assignment, make_enterprise
from visits.models import Visit

pytestmark = pytest.mark.e2e

DRAFTS = "Object.keys(localStorage).filter(k => k.startsWith('rongxie.visit-draft.')).length"
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def toggle(page, field, index):
    """Tap the big toggle button (the label) of choice ``index`` of ``field``."""
    page.locator(f"label[for=id_{field}_{index}]").click()


def test_officer_records_a_visit_offline_and_it_is_sent_once(
    page, context, live_server, login, shot, cast
):
    enterprise = make_enterprise(PINGYANG_TOWN, name="平阳鑫达五金有限公司")
    assignment = make_assignment(enterprise, cast.bank)
    assignment.township_worker = cast.township
    assignment.save()
    page.set_viewport_size(PHONE)
    detail = reverse("enterprises:detail", args=[enterprise.pk])
    login(page, cast.officer, next_url=detail)

    # the enterprise page lists its visits (none yet) and offers the button
    page.goto(f"{live_server.url}{detail}")
    expect(page.locator("#visit-panel")).to_contain_text(gettext("No visits recorded yet."))
    page.locator("#record-visit").click()
    expect(page.locator("h1")).to_have_text(gettext("Record a visit"))
    expect(page.locator("#id_enterprise_q")).to_have_value(re.compile(enterprise.name))
    expect(page.locator("#id_township_worker_name")).to_have_value("township")

    # the officer starts: a financing need of 200 万元 for working capital
    toggle(page, "method", 0)
    toggle(page, "has_need", 0)
    expect(page.locator("#need-section")).to_be_visible()
    page.locator("#id_need_amount").fill("200")
    toggle(page, "need_purpose", 0)
    toggle(page, "acceptable_guarantees", 0)
    toggle(page, "intent", 0)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    # the page is reloaded (a phone drops tabs): the draft comes back, every field
    page.reload()
    expect(page.locator("#draft-restored")).to_be_visible()
    expect(page.locator("#draft-restored")).to_contain_text(gettext("Restored an unsent draft."))
    expect(page.locator("#id_need_amount")).to_have_value("200")
    expect(page.locator("#id_has_need_0")).to_be_checked()
    expect(page.locator("#id_acceptable_guarantees_0")).to_be_checked()
    client_key = page.locator("input[name=client_key]").input_value()

    # the signal drops mid-form; the rest is typed and submitted offline
    context.set_offline(True)
    toggle(page, "problems", 1)
    page.locator("#id_note").fill("扩建厂房，需要流动资金")
    page.locator("#visit-submit").click()
    expect(page.locator("#draft-offline")).to_be_visible()
    expect(page.locator("#draft-offline")).to_have_text(
        gettext(
            "The network is down. The draft is saved and will be sent when you are back online."
        )
    )
    assert Visit.objects.count() == 0
    assert page.evaluate(DRAFTS) == 1
    expect(page.locator("#id_note")).to_have_value("扩建厂房，需要流动资金")  # nothing lost
    shot(page, "journey3-visit-offline-phone")

    # back online: the draft is sent by itself, once, and the visit's page opens
    context.set_offline(False)
    expect(page).to_have_url(re.compile(r"/visits/\d+/$"), timeout=45_000)
    visit = Visit.objects.get()
    assert (visit.enterprise, visit.bank_officer, visit.township_worker) == (
        enterprise,
        cast.officer,
        cast.township,
    )
    assert (visit.has_need, visit.need_amount, visit.problems) == (
        True,
        Decimal("200"),
        ["collateral"],
    )
    assert str(visit.client_key) == client_key
    assert page.evaluate(DRAFTS) == 0
    expect(page.locator("#visit-need")).to_contain_text("200")

    # the same draft sent again (say from another tab that kept it): still one visit
    page.goto(f"{live_server.url}{reverse('visits:new')}?enterprise={enterprise.uscc}")
    expect(page.locator("#draft-restored")).to_be_hidden()
    page.evaluate(f"document.querySelector('input[name=client_key]').value = '{client_key}'")
    toggle(page, "has_need", 1)
    page.locator("#visit-submit").click()
    expect(page).to_have_url(re.compile(rf"/visits/{visit.pk}/$"))
    assert Visit.objects.count() == 1

    # the enterprise page now lists the visit
    page.goto(f"{live_server.url}{detail}")
    expect(page.locator("#visit-panel")).to_contain_text(visit.visited_on.strftime("%Y-%m-%d"))
    page.goto(f"{live_server.url}{reverse('visits:detail', args=[visit.pk])}")
    shot(page, "journey3-visit-phone")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
