"""Bank matching: a lead and a backup branch of two institutions, both serving the location."""

from datetime import date

import pytest
from django.core.management import call_command
from django.utils import translation

from banks.choices import AssignmentRole, AssignmentStatus, UnplacedReason
from banks.models import AllocationRules, BankAssignment, UnplacedEnterprise
from banks.services.allocation import allocate, explain
from enterprises.models import Region
from screening.models import ListMembership, ScreeningRun
from tests.factories import PINGYANG, PINGYANG_TOWN, make_bank, make_enterprise, make_loan, make_tax

pytestmark = pytest.mark.django_db

AOJIANG = "330326101"  # 鳌江镇
SHUITOU = "330326102"


def branch(code, institution, serves, capacity=None, focus=()):
    bank = make_bank(
        code=code,
        name=f"{institution.name}{code}支行",
        parent=institution,
        level="sub_branch",
        capacity=capacity,
    )
    bank.focus_areas = list(focus)
    bank.save()
    bank.service_regions.set(serves)
    return bank


def key_visit_list(*enterprises):
    run = ScreeningRun.objects.create(region_id=PINGYANG, status="succeeded", is_current=True)
    for enterprise in enterprises:
        ListMembership.objects.create(run=run, list_type="key_visit", enterprise=enterprise)


def county():
    return Region.objects.get(code=PINGYANG)


@pytest.fixture
def institutions(regions):
    return {name: make_bank(code=name, name=name, level="legal_person") for name in "ABC"}


def assignments_of(enterprise):
    return {a.role: a for a in BankAssignment.objects.filter(enterprise=enterprise)}


def test_lead_and_backup_differ_by_institution_and_both_serve_the_location(institutions):
    a, b = institutions["A"], institutions["B"]
    branch("A1", a, [PINGYANG_TOWN])
    branch("A2", a, [PINGYANG])
    branch("B1", b, [PINGYANG])
    branch("X", a, ["330302"])  # 鹿城区: never a candidate here
    firms = [make_enterprise(PINGYANG_TOWN) for _ in range(6)]
    key_visit_list(*firms)

    run = allocate(county())

    assert run.summary["placed"] == 6
    for firm in firms:
        roles = assignments_of(firm)
        lead, backup = roles[AssignmentRole.LEAD], roles[AssignmentRole.BACKUP]
        assert {lead.bank.parent_id, backup.bank.parent_id} == {"A", "B"}
        assert lead.bank_id != "X" and backup.bank_id != "X"
        assert lead.status == AssignmentStatus.PENDING
        assert backup.status == AssignmentStatus.WAITING


def test_loads_are_balanced_within_capacity(institutions):
    a, b = institutions["A"], institutions["B"]
    for code in ("A1", "A2", "A3"):
        branch(code, a, [PINGYANG], capacity=10)
    branch("B1", b, [PINGYANG], capacity=5)
    branch("B2", b, [PINGYANG], capacity=20)
    firms = [make_enterprise(PINGYANG_TOWN) for _ in range(12)]
    key_visit_list(*firms)

    run = allocate(county())

    leads = BankAssignment.objects.filter(role=AssignmentRole.LEAD)
    lead_loads = {code: leads.filter(bank_id=code).count() for code in ("A1", "A2", "A3")}
    backups = BankAssignment.objects.filter(role=AssignmentRole.BACKUP)
    # 12 enterprises over three A branches of 10 (the B branches are emptier, by fill ratio)
    # and backups spread by fill: B1 (5) takes a third as many as B2 (20) at most.
    assert sum(lead_loads.values()) + leads.filter(bank__parent_id="B").count() == 12
    assert backups.filter(bank_id="B1").count() <= 5
    loads = [leads.filter(bank_id=code).count() for code in ("A1", "A2", "A3", "B1", "B2")]
    fills = [n / cap for n, cap in zip(loads, (10, 10, 10, 5, 20), strict=True)]
    assert max(fills) - min(fills) <= 0.2  # balanced to within one enterprise per 5 capacity
    assert run.summary["loads"]["lead"]["max"] == max(loads)
    assert run.summary["loads"]["lead"]["min"] == min(loads)


def test_capacity_is_never_exceeded_and_the_rest_is_reported(institutions):
    branch("A1", institutions["A"], [PINGYANG], capacity=2)
    branch("B1", institutions["B"], [PINGYANG], capacity=2)
    firms = [make_enterprise(PINGYANG_TOWN) for _ in range(5)]
    key_visit_list(*firms)

    run = allocate(county())

    # two lead and two backup places at each branch: four firms, the fifth reported
    for code in ("A1", "B1"):
        for role in ("lead", "backup"):
            assert BankAssignment.objects.filter(bank_id=code, role=role).count() == 2
    assert run.summary["placed"] == 4
    assert run.summary["unplaced_by_reason"] == {UnplacedReason.NO_CAPACITY: 1}
    assert list(
        UnplacedEnterprise.objects.filter(run=run).values_list("enterprise", flat=True)
    ) == [firms[4].pk]


def test_an_existing_lender_that_serves_the_location_leads(institutions):
    a, b = institutions["A"], institutions["B"]
    branch("A1", a, [PINGYANG])
    b1 = branch("B1", b, [PINGYANG])
    far = branch("B9", b, ["330302"])
    borrower = make_enterprise(PINGYANG_TOWN)
    make_loan(borrower, b1, "10", date(2024, 1, 1))
    elsewhere = make_enterprise(PINGYANG_TOWN)
    make_loan(elsewhere, far, "10", date(2024, 1, 1))  # B9 does not serve 平阳
    fresh = make_enterprise(PINGYANG_TOWN)
    key_visit_list(fresh, borrower, elsewhere)

    allocate(county())

    lead = assignments_of(borrower)[AssignmentRole.LEAD]
    assert lead.bank_id == "B1"
    assert lead.explanation["existing_lender"] is True
    assert assignments_of(elsewhere)[AssignmentRole.LEAD].bank_id != "B9"
    assert assignments_of(elsewhere)[AssignmentRole.LEAD].explanation["existing_lender"] is False


def test_the_existing_lender_rule_can_be_switched_off(institutions):
    branch("A1", institutions["A"], [PINGYANG])
    b1 = branch("B1", institutions["B"], [PINGYANG])
    AllocationRules.objects.create(region=county(), prefer_existing_lender=False)
    first = make_enterprise(PINGYANG_TOWN)
    borrower = make_enterprise(PINGYANG_TOWN)
    make_loan(first, b1, "10", date(2024, 1, 1))
    make_loan(borrower, b1, "10", date(2024, 1, 1))
    key_visit_list(first, borrower)

    allocate(county())

    # balanced instead: the second firm goes to the emptier A1
    leads = {assignments_of(f)[AssignmentRole.LEAD].bank_id for f in (first, borrower)}
    assert leads == {"A1", "B1"}


def test_focus_areas_break_ties(institutions):
    branch("A1", institutions["A"], [PINGYANG])
    branch("B1", institutions["B"], [PINGYANG], focus=["foreign_trade"])
    branch("C1", institutions["C"], [PINGYANG])
    exporter = make_enterprise(PINGYANG_TOWN)
    make_tax(exporter, export_rebate="3")
    key_visit_list(exporter)

    allocate(county())

    lead = assignments_of(exporter)[AssignmentRole.LEAD]
    assert lead.bank_id == "B1"  # without focus, A1 would win the tie by code
    assert lead.explanation["focus"] == ["foreign_trade"]


def test_a_second_run_changes_nothing_and_assigned_firms_keep_their_banks(institutions):
    branch("A1", institutions["A"], [PINGYANG])
    branch("B1", institutions["B"], [PINGYANG])
    branch("B2", institutions["B"], [PINGYANG])
    firms = [make_enterprise(PINGYANG_TOWN) for _ in range(5)]
    key_visit_list(*firms)
    allocate(county())
    before = sorted(BankAssignment.objects.values_list("enterprise_id", "role", "bank_id"))

    again = allocate(county())

    assert again.summary["placed"] == 0
    assert sorted(BankAssignment.objects.values_list("enterprise_id", "role", "bank_id")) == before


def test_the_same_inputs_give_the_same_result(institutions):
    for code in ("A1", "A2"):
        branch(code, institutions["A"], [PINGYANG])
    for code in ("B1", "B2"):
        branch(code, institutions["B"], [PINGYANG])
    firms = [make_enterprise(PINGYANG_TOWN) for _ in range(7)]
    key_visit_list(*firms)
    allocate(county())
    first = sorted(BankAssignment.objects.values_list("enterprise_id", "role", "bank_id"))
    BankAssignment.objects.all().delete()

    allocate(county())

    assert sorted(BankAssignment.objects.values_list("enterprise_id", "role", "bank_id")) == first


def test_enterprises_that_cannot_be_placed_are_reported_with_their_reason(institutions):
    branch("A1", institutions["A"], [PINGYANG_TOWN])
    branch("A2", institutions["A"], [AOJIANG])
    branch("B2", institutions["B"], [AOJIANG])
    placed = make_enterprise(AOJIANG)
    one_institution = make_enterprise(PINGYANG_TOWN)
    nobody = make_enterprise(SHUITOU)
    key_visit_list(placed, one_institution, nobody)

    run = allocate(county())

    reasons = dict(UnplacedEnterprise.objects.filter(run=run).values_list("enterprise", "reason"))
    assert reasons == {
        one_institution.pk: UnplacedReason.NO_SECOND_INSTITUTION,
        nobody.pk: UnplacedReason.NO_SERVING_BANK,
    }
    assert run.summary["placed"] == 1
    assert not BankAssignment.objects.filter(enterprise__in=[one_institution, nobody]).exists()


def test_the_feedback_clock_counts_working_days_across_an_adjusted_weekend(institutions):
    branch("A1", institutions["A"], [PINGYANG])
    branch("B1", institutions["B"], [PINGYANG])
    firm = make_enterprise(PINGYANG_TOWN)
    key_visit_list(firm)

    allocate(county(), today=date(2025, 9, 30))

    # 7 working days from 30 September 2025: 1–8 October off, Saturday 11 October worked.
    roles = assignments_of(firm)
    assert roles[AssignmentRole.LEAD].due_on == date(2025, 10, 16)
    assert roles[AssignmentRole.BACKUP].due_on is None  # its clock starts on hand-off


def test_each_lead_is_paired_with_a_township_worker_of_its_township(cast, institutions):
    branch("A1", institutions["A"], [PINGYANG])
    branch("B1", institutions["B"], [PINGYANG])
    here = make_enterprise(PINGYANG_TOWN)
    there = make_enterprise(AOJIANG)  # no worker in 鳌江镇
    key_visit_list(here, there)

    run = allocate(county())

    assert assignments_of(here)[AssignmentRole.LEAD].township_worker == cast.township
    assert assignments_of(there)[AssignmentRole.LEAD].township_worker is None
    assert run.summary["paired"] == 1


def test_a_visit_batch_is_allocated_alone(institutions):
    from banks.models import VisitBatch, VisitBatchMember

    branch("A1", institutions["A"], [PINGYANG])
    branch("B1", institutions["B"], [PINGYANG])
    inside, outside = make_enterprise(PINGYANG_TOWN), make_enterprise(PINGYANG_TOWN)
    key_visit_list(inside, outside)
    batch = VisitBatch.objects.create(region=county(), name="第一批")
    VisitBatchMember.objects.create(batch=batch, enterprise=inside)

    run = allocate(county(), visit_batch=batch)

    assert run.visit_batch == batch
    assert BankAssignment.objects.filter(enterprise=inside).count() == 2
    assert not BankAssignment.objects.filter(enterprise=outside).exists()


def test_the_explanation_reads_in_the_users_language(institutions):
    branch("A1", institutions["A"], [PINGYANG_TOWN], capacity=50)
    b1 = branch("B1", institutions["B"], [PINGYANG])
    firm = make_enterprise(PINGYANG_TOWN)
    make_loan(firm, b1, "10", date(2024, 1, 1))
    key_visit_list(firm)
    allocate(county())
    roles = assignments_of(firm)

    with translation.override("zh-hans"):
        assert explain(roles[AssignmentRole.LEAD]) == "BB1支行 — 服务平阳县；现有贷款关系"
        assert explain(roles[AssignmentRole.BACKUP]) == "AA1支行 — 服务昆阳镇；负荷 1 / 50"
    with translation.override("en"):
        assert explain(roles[AssignmentRole.LEAD]) == (
            "BB1支行 — serves 平阳县; existing loan relationship"
        )


def test_the_command_allocates_a_county(institutions):
    branch("A1", institutions["A"], [PINGYANG])
    branch("B1", institutions["B"], [PINGYANG])
    key_visit_list(make_enterprise(PINGYANG_TOWN), make_enterprise(PINGYANG_TOWN))

    call_command("allocate_banks", "--region", PINGYANG)

    assert BankAssignment.objects.count() == 4


def test_an_existing_lender_at_capacity_does_not_lead(institutions):
    branch("A1", institutions["A"], [PINGYANG])
    b1 = branch("B1", institutions["B"], [PINGYANG], capacity=1)
    branch("C1", institutions["C"], [PINGYANG])
    first, second = make_enterprise(PINGYANG_TOWN), make_enterprise(PINGYANG_TOWN)
    for firm in (first, second):
        make_loan(firm, b1, "10", date(2024, 1, 1))
    key_visit_list(first, second)

    allocate(county())

    assert assignments_of(first)[AssignmentRole.LEAD].bank_id == "B1"
    lead = assignments_of(second)[AssignmentRole.LEAD]
    assert lead.bank_id == "A1"
    assert lead.explanation["existing_lender"] is False


def test_a_branch_serving_the_whole_city_serves_its_townships(institutions):
    branch("A1", institutions["A"], [PINGYANG_TOWN])
    branch("B9", institutions["B"], ["330300"])  # 温州市
    firm = make_enterprise(PINGYANG_TOWN)
    key_visit_list(firm)

    run = allocate(county())

    assert run.summary["placed"] == 1
    roles = assignments_of(firm)
    assert {roles[AssignmentRole.LEAD].bank_id, roles[AssignmentRole.BACKUP].bank_id} == {
        "A1",
        "B9",
    }
    backup = next(a for a in roles.values() if a.bank_id == "B9")
    assert backup.explanation["serves"] == "330300"
