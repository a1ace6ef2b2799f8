"""A small matched county for the staff screens: branches, a key-visit list, one run."""

from dataclasses import dataclass
from datetime import date

from banks.models import AllocationRun, Bank, VisitBatch
from banks.services.allocation import allocate
from banks.services.batches import create_visit_batch
from enterprises.models import Region
from screening.models import ListMembership, ScreeningRun
from tests.factories import LUCHENG, PINGYANG, PINGYANG_TOWN, make_bank, make_enterprise, make_tax

AOJIANG = "330326101"  # 鳌江镇


def serve(bank, regions, capacity=None, focus=()):
    bank.capacity = capacity
    bank.focus_areas = list(focus)
    bank.save()
    bank.service_regions.set(regions)
    return bank


@dataclass
class Matched:
    """Branches: ``lead_bank`` (cast.bank, 温州银行平阳支行) and ``other`` (瑞安农商银行) serve
    平阳县; ``sibling`` is another branch of 温州银行 serving 平阳县; ``third`` a third
    institution serving 平阳县; ``far`` serves 鹿城区 only."""

    county: Region
    lead_bank: Bank
    other: Bank
    sibling: Bank
    third: Bank
    far: Bank
    firms: list
    batch: VisitBatch
    run: AllocationRun


def key_visit(firm, run, tier=1, rating="A", bank_count=0, no_loan=True):
    ListMembership.objects.create(
        run=run,
        list_type="key_visit",
        enterprise=firm,
        tier=tier,
        rating=rating,
        bank_count=bank_count,
    )
    if no_loan:
        ListMembership.objects.create(run=run, list_type="no_loan", enterprise=firm)


def build(cast):
    """Six key-visit firms of 平阳县 (varied tiers, ratings, loans, townships), a batch of all
    of them, and one allocation run of the batch."""
    serve(cast.bank, [PINGYANG], capacity=10)
    serve(cast.other_bank, [PINGYANG], capacity=10)
    sibling = serve(
        make_bank(code="PY-BR2", name="温州银行鳌江支行", parent=cast.bank.parent), [AOJIANG]
    )
    third = serve(make_bank(code="ABC-PY", name="农业银行平阳支行"), [PINGYANG], capacity=10)
    far = serve(make_bank(code="LC-BR", name="鹿城测试银行"), [LUCHENG], capacity=10)
    screening = ScreeningRun.objects.create(
        region_id=PINGYANG,
        status="succeeded",
        is_current=True,
        as_of=date(2026, 10, 31),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 10, 31),
    )
    firms = [
        make_enterprise(PINGYANG_TOWN),  # tier 1, A, no loan
        make_enterprise(PINGYANG_TOWN),  # tier 1, B, has loan (2 banks), foreign trade
        make_enterprise(AOJIANG),  # tier 2, A, no loan
        make_enterprise(AOJIANG),  # tier 2, M, has loan (1 bank)
        make_enterprise(PINGYANG_TOWN),  # tier 3, A, has loan (4 banks)
        make_enterprise(AOJIANG),  # tier 3, B, no loan, foreign trade
    ]
    key_visit(firms[0], screening, tier=1, rating="A")
    key_visit(firms[1], screening, tier=1, rating="B", bank_count=2, no_loan=False)
    key_visit(firms[2], screening, tier=2, rating="A")
    key_visit(firms[3], screening, tier=2, rating="M", bank_count=1, no_loan=False)
    key_visit(firms[4], screening, tier=3, rating="A", bank_count=4, no_loan=False)
    key_visit(firms[5], screening, tier=3, rating="B")
    make_tax(firms[1], export_rebate="12.5")
    make_tax(firms[5], export_rebate="3")
    make_tax(firms[0], export_rebate="0")
    county = Region.objects.get(code=PINGYANG)
    batch = create_visit_batch(cast.staff, county, "第一批", {})
    run = allocate(county, visit_batch=batch, user=cast.staff)
    return Matched(county, cast.bank, cast.other_bank, sibling, third, far, firms, batch, run)


def outsider_firm():
    """A firm of 鹿城区, outside every 平阳 scope."""
    return make_enterprise("330302006")
