"""Journey 2 — task-force staff: cut a visit batch from the key-visit list, allocate it (a job
to 100%), read the run's loads and its unplaced enterprise, read why an enterprise's lead and
backup banks were chosen, change one of them with a reason, and see the change in the history."""

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils.translation import gettext
from playwright.sync_api import expect

from banks.choices import AssignmentRole, UnplacedReason
from banks.models import AllocationRun, BankAssignment, VisitBatch
from banks.services.allocation import explain
from screening.models import ListMembership, ScreeningRun
from tests.e2e.conftest import wait_for_job
from tests.factories import PINGYANG, PINGYANG_TOWN, make_bank, make_enterprise

pytestmark = pytest.mark.e2e

AOJIANG = "330326101"  # 鳌江镇: served by one institution only
REASON = "企业申请改由离厂区更近的同行支行对接"


def _branch(code, name, institution, serves):
    bank = make_bank(code=code, name=name, parent=institution, level="sub_branch")
    bank.service_regions.set(serves)
    return bank


def _banks():
    """Two institutions serving 平阳县: 农商银行 everywhere (two branches), 浙商银行 in 昆阳镇."""
    rural = make_bank(code="PYRCB", name="平阳农商银行", level="legal_person")
    zheshang = make_bank(code="CZB", name="浙商银行", level="legal_person")
    return {
        "kunyang": _branch("PYRCB-KY", "平阳农商银行昆阳支行", rural, [PINGYANG]),
        "chengdong": _branch("PYRCB-CD", "平阳农商银行城东支行", rural, [PINGYANG]),
        "zheshang": _branch("CZB-PY", "浙商银行平阳昆阳支行", zheshang, [PINGYANG_TOWN]),
    }


def _key_visit_list():
    """The county's current key-visit list: four tier-1 enterprises of 昆阳镇, one of 鳌江镇
    (only one institution serves it) and two tier-2 ones the batch leaves out."""
    tier1 = [make_enterprise(PINGYANG_TOWN, name=f"昆阳{n}号机械有限公司") for n in range(1, 5)]
    aojiang = make_enterprise(AOJIANG, name="鳌江印刷有限公司")
    tier2 = [make_enterprise(PINGYANG_TOWN, name=f"昆阳{n}号服饰有限公司") for n in range(5, 7)]
    run = ScreeningRun.objects.create(
        region_id=PINGYANG, status="succeeded", is_current=True, as_of=date(2025, 6, 30)
    )
    for enterprise, tier in [*((e, 1) for e in [*tier1, aojiang]), *((e, 2) for e in tier2)]:
        ListMembership.objects.create(
            run=run, list_type="key_visit", enterprise=enterprise, tier=tier
        )
    return tier1, aojiang, tier2


def test_batch_allocation_explanation_and_override(page, live_server, login, shot, cast):
    banks = _banks()
    tier1, aojiang, tier2 = _key_visit_list()
    login(page, cast.staff, next_url=reverse("banks:batch_list"))

    # 1. 双线对接: the county's key-visit list, a new batch cut to tier 1
    expect(page).to_have_url(re.compile(r"/banks/matching/$"))
    expect(page.locator("h1")).to_contain_text(gettext("Bank matching"))
    on_list = len(tier1) + 1 + len(tier2)
    expect(
        page.get_by_text(
            gettext("Enterprises on the current key-visit list: %(count)s") % {"count": on_list}
        )
    ).to_be_visible()
    page.get_by_role("link", name=gettext("New visit batch")).click()
    expect(page).to_have_url(re.compile(r"/banks/matching/batches/new/"))
    page.get_by_label(gettext("Batch name")).fill("第一层级首批走访")
    page.get_by_label(gettext("Tier 1"), exact=True).check()
    page.get_by_role("button", name=gettext("Count matches")).click()
    matching = gettext("Enterprises matching: %(count)s") % {"count": 5}
    expect(page.get_by_role("status")).to_have_text(matching)
    page.get_by_role("button", name=gettext("Save batch")).click()
    batch = VisitBatch.objects.get()
    expect(page).to_have_url(re.compile(rf"/banks/matching/batches/{batch.pk}/$"))
    assert batch.size == 5
    assert {key: value for key, value in batch.criteria.items() if value} == {"tiers": [1]}
    members = page.locator("tbody a[href^='/enterprises/']")
    assert sorted(members.all_inner_texts()) == sorted(e.name for e in [*tier1, aojiang])

    # 2. allocate the batch: a job, its progress to 100%
    page.get_by_role("button", name=gettext("Allocate this batch")).click()
    job = wait_for_job(page)
    assert job.status == "succeeded", job.error
    run = AllocationRun.objects.get()
    assert run.visit_batch_id == batch.pk
    assert (run.summary["placed"], run.summary["unplaced"]) == (4, 1)

    # 3. the run: loads per branch and the enterprise no second institution serves
    page.goto(f"{live_server.url}{reverse('banks:batch_detail', args=[batch.pk])}")
    page.locator(f'a[href="{reverse("banks:run_detail", args=[run.pk])}"]').click()
    expect(page).to_have_url(re.compile(rf"/banks/matching/runs/{run.pk}/$"))
    loads = page.get_by_test_id("run-branch-loads").locator("tbody tr")
    expect(loads).to_have_count(3)
    shown = {}
    for text in loads.all_inner_texts():
        name, lead, backup = text.split("\t")[:3]
        shown[name.strip()] = (int(lead), int(backup))
    for bank in banks.values():
        counts = BankAssignment.objects.filter(bank=bank)
        expected = (counts.filter(role="lead").count(), counts.filter(role="backup").count())
        assert shown[bank.name] == expected, bank.name
    assert sum(lead for lead, _backup in shown.values()) == 4
    assert shown[banks["zheshang"].name][0] + shown[banks["zheshang"].name][1] == 4
    unplaced = page.get_by_test_id("run-unplaced").locator("tbody tr")
    expect(unplaced).to_have_count(1)
    expect(unplaced).to_contain_text(aojiang.name)
    expect(unplaced).to_contain_text(str(UnplacedReason.NO_SECOND_INSTITUTION.label))

    # 4. one enterprise: its lead and backup bank, and why, in Chinese
    firm = tier1[0]
    lead = BankAssignment.objects.get(enterprise=firm, role=AssignmentRole.LEAD)
    backup = BankAssignment.objects.get(enterprise=firm, role=AssignmentRole.BACKUP)
    assert {lead.bank.parent_id, backup.bank.parent_id} == {"PYRCB", "CZB"}
    page.get_by_role("link", name=batch.name).click()
    page.get_by_role("link", name=firm.name).click()
    expect(page).to_have_url(re.compile(rf"/enterprises/{firm.pk}/$"))
    panel = page.locator("#assignment-panel")
    for assignment in (lead, backup):
        expect(panel).to_contain_text(str(assignment.get_role_display()))
        why = explain(assignment)
        assert why.startswith(assignment.bank.name + " — ") and "服务" in why, why
        expect(panel).to_contain_text(why)

    # 5. change the 农商银行 one (lead or backup) to the bank's other branch, with a reason:
    # the only change the rules allow here (浙商银行 has one branch and must keep its role)
    changed = lead if lead.bank.parent_id == "PYRCB" else backup
    target = banks["chengdong"] if changed.bank_id == "PYRCB-KY" else banks["kunyang"]
    page.locator(f'a[href="{reverse("banks:override", args=[changed.pk])}"]').click()
    expect(page).to_have_url(re.compile(rf"/banks/assignments/{changed.pk}/override/$"))
    page.get_by_label(gettext("New branch")).select_option(label=target.name)
    page.get_by_label(gettext("Reason")).fill(REASON)
    page.get_by_role("button", name=gettext("Save"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/enterprises/{firm.pk}/$"))
    expect(page.get_by_text(gettext("The assignment was changed."))).to_be_visible()
    old_bank = changed.bank
    changed.refresh_from_db()
    assert (changed.bank_id, changed.override_reason) == (target.code, REASON)
    expect(panel).to_contain_text(explain(changed))
    expect(panel).to_contain_text(REASON)
    expect(panel).not_to_contain_text(old_bank.name)

    # 6. the change history (administrators): who changed which bank, before → after
    page.context.clear_cookies()
    login(page, cast.admin, next_url="/history/")
    expect(page).to_have_url(re.compile(r"/history/$"))
    record_type = str(BankAssignment._meta.verbose_name)
    page.get_by_label(gettext("Record type")).select_option(label=record_type)
    page.get_by_role("button", name=gettext("Filter")).click()
    entry = page.locator("tr.history-entry")
    expect(entry).to_have_count(1)  # the allocation's bulk insert is not per-row history
    expect(entry).to_contain_text(record_type)
    expect(entry).to_contain_text(gettext("changed"))
    expect(entry).to_contain_text(cast.staff.display_name)
    expect(entry).to_contain_text(str(BankAssignment._meta.get_field("bank").verbose_name))
    expect(entry).to_contain_text(REASON)
    shot(page, "journey2-history")
