"""Bank matching (双线对接): a lead and a backup branch for every enterprise to be visited.

Rules (domain.md, "Bank matching"; switches per county in ``AllocationRules``):
- both branches serve the enterprise's township, or its county, and belong to two different
  legal-person institutions;
- a has-loan enterprise gets as lead the branch it already borrows from, when that branch
  serves its location and has capacity left;
- otherwise the least-filled serving branch (load / capacity) is chosen, so loads stay within
  capacity and balanced; a branch with the enterprise's focus area (外贸 firms to 外贸 branches)
  wins a tie; then the bank code, so the same inputs always give the same result;
- an enterprise already assigned keeps its banks; one that cannot be placed is recorded with
  its reason, never skipped silently.

Capacity is per run (a run allocates one visit batch, or the whole list): a branch takes at
most ``capacity`` enterprises as lead and as many as backup. A branch with no capacity set has
no limit and counts as filled by ``load / UNLIMITED_CAPACITY``.

The greedy pass runs in Python over one row per enterprise, with the candidate branches of
each location worked out once; the rows are written with one bulk insert per table.
"""

import heapq
from dataclasses import dataclass, field
from statistics import mean

from django.apps import apps
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.bulk import bulk_insert
from core.workdays import add_working_days
from enterprises.choices import REGION_PREFIX_LENGTH

from ..choices import AssignmentRole, AssignmentStatus, FocusArea, UnplacedReason
from ..models import (
    AllocationRules,
    AllocationRun,
    Bank,
    BankAssignment,
    UnplacedEnterprise,
    VisitBatchMember,
)

UNLIMITED_CAPACITY = 1000
ASSIGNMENT_FIELDS = (
    "enterprise_id",
    "bank_id",
    "role",
    "status",
    "due_on",
    "explanation",
    "run_id",
    "township_worker_id",
    "assigned_at",
    "override_reason",
)


def service_prefix(region_code, level):
    """The code prefix a service region covers: 温州市 330300 covers every code starting 3303."""
    return region_code[: REGION_PREFIX_LENGTH.get(level, len(region_code))]


def service_areas():
    """{bank code: [(service region code, its prefix)]} of every bank (one query)."""
    areas = {}
    for bank_code, region_code, level in Bank.service_regions.through.objects.values_list(
        "bank_id", "region_id", "region__level"
    ):
        areas.setdefault(bank_code, []).append((region_code, service_prefix(region_code, level)))
    return areas


@dataclass
class Branch:
    code: str
    name: str
    institution: str
    serves: tuple  # (region code, prefix) pairs: a county or city covers what lies inside it
    capacity: int | None
    focus: frozenset
    load: dict = field(default_factory=lambda: {AssignmentRole.LEAD: 0, AssignmentRole.BACKUP: 0})

    def has_room(self, role):
        return self.capacity is None or self.load[role] < self.capacity

    def fill(self, role):
        return self.load[role] / (self.capacity or UNLIMITED_CAPACITY)

    def served_code(self, region_code):
        """The service region that covers ``region_code`` (the most specific), or None."""
        matches = [
            (len(prefix), code) for code, prefix in self.serves if region_code.startswith(prefix)
        ]
        return max(matches)[1] if matches else None


@dataclass
class Target:
    """An enterprise to place: its location, focus and the branches it borrows from."""

    enterprise_id: int
    region_code: str
    focus: frozenset
    lenders: tuple  # bank codes, most recent loan first


def institution_of(code, parents):
    """The legal-person institution (root of the branch tree) of bank ``code``."""
    seen = set()
    while parents.get(code) and code not in seen:
        seen.add(code)
        code = parents[code]
    return code


def load_branches():
    """Every bank with service regions, as Branch objects keyed by code (one query each)."""
    parents = dict(Bank.objects.values_list("code", "parent_id"))
    serves = service_areas()
    branches = {}
    for bank in Bank.objects.filter(code__in=list(serves)).only(
        "code", "name", "capacity", "focus_areas"
    ):
        branches[bank.code] = Branch(
            code=bank.code,
            name=bank.name,
            institution=institution_of(bank.code, parents),
            serves=tuple(sorted(serves[bank.code])),
            capacity=bank.capacity,
            focus=frozenset(bank.focus_areas or ()),
        )
    return branches


def target_enterprise_ids(county, visit_batch=None):
    """Enterprise ids to place: the batch's members, or the county's current key-visit list."""
    if visit_batch is not None:
        return VisitBatchMember.objects.filter(batch=visit_batch).values("enterprise_id")
    from screening.selectors import current_memberships

    return (
        current_memberships("key_visit")
        .filter(enterprise__region__code__startswith=county.scope_prefix)
        .values("enterprise_id")
    )


def load_targets(county, visit_batch=None):
    """The enterprises still without banks, ordered by id (deterministic)."""
    Enterprise = apps.get_model("enterprises", "Enterprise")
    TaxRecord = apps.get_model("enterprises", "TaxRecord")
    # Loans live in an app above this one: read through the app registry, not an import.
    Loan = apps.get_model("loans", "Loan")

    ids = target_enterprise_ids(county, visit_batch)
    rows = (
        Enterprise.objects.filter(pk__in=ids)
        .exclude(bank_assignments__isnull=False)
        .order_by("pk")
        .values_list("pk", "region_id")
    )
    foreign_trade = set(
        TaxRecord.objects.filter(enterprise_id__in=ids, export_rebate__gt=0).values_list(
            "enterprise_id", flat=True
        )
    )
    lenders = {}
    for enterprise_id, bank_id, _last in (
        Loan.objects.filter(enterprise_id__in=ids)
        .values("enterprise_id", "bank_id")
        .annotate(last=Max("disbursed_on"))
        .order_by("enterprise_id", "-last", "bank_id")
        .values_list("enterprise_id", "bank_id", "last")
    ):
        lenders.setdefault(enterprise_id, []).append(bank_id)
    return [
        Target(
            enterprise_id=pk,
            region_code=region_code,
            focus=frozenset({FocusArea.FOREIGN_TRADE}) if pk in foreign_trade else frozenset(),
            lenders=tuple(lenders.get(pk, ())),
        )
        for pk, region_code in rows
    ]


class Pool:
    """The serving branches of one location for one role, least filled first.

    A heap with lazy updates: loads only grow, so an entry whose load is out of date sorts too
    early and is refreshed when it reaches the top. With focus areas on, a branch sharing the
    enterprise's focus comes first among equally filled ones; then the bank code.
    """

    def __init__(self, branches, role, focus):
        self.role, self.focus = role, focus
        self.heap = [self._entry(b) for b in branches if b.has_room(role)]
        heapq.heapify(self.heap)

    def _entry(self, branch):
        focus_miss = not (self.focus & branch.focus)
        return (branch.fill(self.role), focus_miss, branch.code, branch.load[self.role], branch)

    def best(self, exclude_institution=None):
        """The least-filled branch with room, not of ``exclude_institution`` (or None)."""
        aside, found = [], None
        while self.heap:
            entry = self.heap[0]
            branch = entry[-1]
            if entry[3] != branch.load[self.role]:  # out of date: refresh, or drop when full
                if branch.has_room(self.role):
                    heapq.heapreplace(self.heap, self._entry(branch))
                else:
                    heapq.heappop(self.heap)
                continue
            if branch.institution == exclude_institution:
                aside.append(heapq.heappop(self.heap))
                continue
            found = branch
            break
        for entry in aside:
            heapq.heappush(self.heap, entry)
        return found


@dataclass
class Location:
    """A township (or county) and the branches serving it, worked out once per run."""

    code: str
    serving: dict  # bank code -> Branch
    served_codes: dict  # bank code -> the service region that covers this location
    institutions: int


def locate(region_code, branches):
    served = {}
    for branch in branches.values():
        code = branch.served_code(region_code)
        if code:
            served[branch.code] = code
    serving = {code: branches[code] for code in served}
    return Location(
        code=region_code,
        serving=serving,
        served_codes=served,
        institutions=len({b.institution for b in serving.values()}),
    )


def _explanation(location, branch, role, target, existing_lender, use_focus):
    return {
        "serves": location.served_codes[branch.code],
        "existing_lender": existing_lender,
        "focus": sorted(target.focus & branch.focus) if use_focus else [],
        "load": branch.load[role],
        "capacity": branch.capacity,
    }


def place(targets, branches, rules):
    """Choose a lead and a backup branch, or an UnplacedReason, for each target in turn.

    Targets are taken location by location (then by id), so each pick touches one heap.
    Mutates the branches' loads. Returns (placements, unplaced); a placement is
    (target, lead, backup, lead explanation, backup explanation).
    """
    lead_role, backup_role = AssignmentRole.LEAD, AssignmentRole.BACKUP
    use_focus = rules.use_focus_areas
    locations, pools = {}, {}
    placements, unplaced = [], []

    def pool(location, target, role):
        focus = target.focus if use_focus else frozenset()
        key = (location.code, role, focus)
        if key not in pools:
            pools[key] = Pool(location.serving.values(), role, focus)
        return pools[key]

    for target in sorted(targets, key=lambda t: (t.region_code, t.enterprise_id)):
        location = locations.get(target.region_code)
        if location is None:
            location = locations[target.region_code] = locate(target.region_code, branches)
        if not location.serving:
            unplaced.append((target, UnplacedReason.NO_SERVING_BANK))
            continue
        if location.institutions < 2:
            unplaced.append((target, UnplacedReason.NO_SECOND_INSTITUTION))
            continue
        lead, existing = None, False
        if rules.prefer_existing_lender:
            for code in target.lenders:
                branch = location.serving.get(code)
                if branch is not None and branch.has_room(lead_role):
                    lead, existing = branch, True
                    break
        if lead is None:
            lead = pool(location, target, lead_role).best()
        backup = lead and pool(location, target, backup_role).best(lead.institution)
        if lead is None or backup is None:
            unplaced.append((target, UnplacedReason.NO_CAPACITY))
            continue
        lead.load[lead_role] += 1
        backup.load[backup_role] += 1
        placements.append(
            (
                target,
                lead,
                backup,
                _explanation(location, lead, lead_role, target, existing, use_focus),
                _explanation(location, backup, backup_role, target, False, use_focus),
            )
        )
    return placements, unplaced


def _load_summary(branches, county_code, role):
    loads = [
        b.load[role]
        for b in branches.values()
        if any(
            code.startswith(county_code) or county_code.startswith(prefix)
            for code, prefix in b.serves
        )
    ]
    if not loads:
        return {"branches": 0, "max": 0, "min": 0, "mean": 0}
    return {
        "branches": len(loads),
        "max": max(loads),
        "min": min(loads),
        "mean": round(mean(loads), 1),
    }


def township_workers(region_codes):
    """{township code: [worker ids]} of the active township workers of those townships."""
    User = apps.get_model("accounts", "User")
    workers = {}
    for pk, region_id in (
        User.objects.filter(role="township_worker", is_active=True, region_id__in=region_codes)
        .order_by("pk")
        .values_list("pk", "region_id")
    ):
        workers.setdefault(region_id, []).append(pk)
    return workers


def allocate(county, *, visit_batch=None, user=None, job=None, today=None, progress=None):
    """Allocate a lead and a backup branch to every unassigned enterprise of the county's
    key-visit list (or of ``visit_batch``). Returns the AllocationRun with its summary."""
    today = today or timezone.localdate()
    rules = AllocationRules.for_county(county)
    report = progress or (lambda done, total, step: None)
    report(0, 3, gettext_lazy("Reading enterprises and branches"))
    branches = load_branches()
    targets = load_targets(county, visit_batch)
    report(1, 3, gettext_lazy("Choosing banks"))
    placements, unplaced = place(targets, branches, rules)
    due_on = add_working_days(today, rules.feedback_working_days)
    workers = township_workers({t.region_code for t, *_rest in placements})
    turns = {}
    report(2, 3, gettext_lazy("Saving assignments"))
    with transaction.atomic():
        run = AllocationRun.objects.create(
            region=county, visit_batch=visit_batch, job=job, created_by=user
        )
        now = timezone.now()
        rows, paired = [], 0
        for target, lead, backup, why_lead, why_backup in placements:
            pool = workers.get(target.region_code, ())
            worker = None
            if pool:
                turn = turns.get(target.region_code, 0)
                worker, turns[target.region_code] = pool[turn % len(pool)], turn + 1
                paired += 1
            lead_row = (lead.code, AssignmentRole.LEAD, AssignmentStatus.PENDING, due_on, why_lead)
            rows.append((target.enterprise_id, *lead_row, run.pk, worker, now, ""))
            backup_row = (backup.code, AssignmentRole.BACKUP, AssignmentStatus.WAITING, None)
            rows.append((target.enterprise_id, *backup_row, why_backup, run.pk, None, now, ""))
        bulk_insert(BankAssignment, ASSIGNMENT_FIELDS, rows)
        bulk_insert(
            UnplacedEnterprise,
            ("run_id", "enterprise_id", "reason"),
            [(run.pk, target.enterprise_id, reason) for target, reason in unplaced],
        )
        reasons = {}
        for _target, reason in unplaced:
            reasons[reason] = reasons.get(reason, 0) + 1
        run.summary = {
            "placed": len(placements),
            "unplaced": len(unplaced),
            "unplaced_by_reason": reasons,
            "paired": paired,
            "due_on": due_on.isoformat(),
            "loads": {
                role: _load_summary(branches, county.scope_prefix, role)
                for role in (AssignmentRole.LEAD, AssignmentRole.BACKUP)
            },
        }
        run.save(update_fields=["summary"])
    report(3, 3, gettext_lazy("Done"))
    return run


def explain(assignment, region_names=None):
    """Why this branch, in the user's language: "温州银行平阳支行 — 服务昆阳镇；现有贷款关系".

    ``region_names`` ({code: name}) spares one region query per row in exports."""
    why = assignment.explanation or {}
    if not why:
        if assignment.override_reason:
            return _("Changed by hand: {reason}").format(reason=assignment.override_reason)
        return ""
    Region = apps.get_model("enterprises", "Region")
    parts = []
    if why.get("serves"):
        if region_names is not None:
            region = region_names.get(why["serves"])
        else:
            names = Region.objects.filter(code=why["serves"]).values_list("name", flat=True)
            region = names.first()
        parts.append(_("serves {region}").format(region=region or why["serves"]))
    if why.get("existing_lender"):
        parts.append(_("existing loan relationship"))
    for code in why.get("focus") or ():
        parts.append(_("focus on {area}").format(area=FocusArea(code).label))
    if why.get("capacity"):
        parts.append(
            _("load {load} of {capacity}").format(load=why["load"], capacity=why["capacity"])
        )
    name = assignment.bank.name
    separator = _("; ")
    text = f"{name} — {separator.join(parts)}" if parts else name
    if assignment.override_reason:
        text += " " + _("(changed by hand: {reason})").format(reason=assignment.override_reason)
    return text
