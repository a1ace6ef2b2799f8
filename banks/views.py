from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import jobs
from core.views import paginate
from enterprises.models import Region
from enterprises.services.privacy import personal_fields
from screening.services.export import write_xlsx

from .choices import AssignmentRole, FocusArea, UnplacedReason
from .forms import BranchForm, OverrideForm, VisitBatchForm
from .models import AllocationRun, Bank, BankAssignment, UnplacedEnterprise, VisitBatch
from .services.allocation import explain, institution_of
from .services.batches import count_candidates, counties_for_user, create_visit_batch
from .services.branches import contact_for, editable_banks, editable_regions, update_branch
from .services.overrides import override_assignment, override_candidates


@login_required
def bank_list(request):
    queryset = (
        Bank.objects.restrict(request.user)
        .select_related("parent")
        .prefetch_related("service_regions")
    )
    page = paginate(request, queryset)
    editable = set(
        editable_banks(request.user)
        .filter(pk__in=[bank.pk for bank in page.object_list])
        .values_list("pk", flat=True)
    )
    for bank in page.object_list:
        bank.shown_contact = contact_for(bank, request.user)
        bank.focus_labels = [_focus_label(code) for code in bank.focus_areas or ()]
        bank.editable = bank.pk in editable
    return render(request, "banks/bank_list.html", {"page": page})


def _focus_label(code):
    return FocusArea(code).label if code in FocusArea.values else code


@login_required
def bank_edit(request, code):
    bank = get_object_or_404(editable_banks(request.user), pk=code)
    regions = editable_regions(request.user)
    initial = {
        "service_regions": list(bank.service_regions.all()),
        "capacity": bank.capacity,
        "focus_areas": bank.focus_areas,
        "contact": bank.contact,
    }
    form = BranchForm(regions, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            update_branch(request.user, bank, **form.cleaned_data)
        except PermissionDenied as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The branch was saved."))
            return redirect("banks:list")
    return render(request, "banks/bank_form.html", {"bank": bank, "form": form})


# --- Bank matching for staff: visit batches, allocation runs, overrides (matchstaff) ---


def _county(request, action="view"):
    """The county chosen (?county=CODE) among the user's, else their own or the first; 404
    when the user has none (bank officers, township workers)."""
    counties = counties_for_user(request.user, action)
    code = request.GET.get("county") or request.POST.get("county")
    if code:
        return get_object_or_404(counties, pk=code), counties
    county = counties.filter(pk=request.user.region_id).first() or counties.first()
    if county is None:
        raise Http404
    return county, counties


@login_required
def batch_list(request):
    county, counties = _county(request)
    user = request.user
    context = {
        "county": county,
        "counties": counties if counties.count() > 1 else None,
        "batches": VisitBatch.objects.restrict(user).filter(region=county)[:100],
        "runs": AllocationRun.objects.restrict(user)
        .filter(region=county)
        .select_related("visit_batch", "created_by")[:20],
        "key_visit_count": count_candidates(county, {}),
        "can_allocate": counties_for_user(user, "allocate").filter(pk=county.pk).exists(),
    }
    return render(request, "banks/batch_list.html", context)


@login_required
def batch_create(request):
    county, _counties = _county(request, "allocate")
    form = VisitBatchForm(county, request.POST or None)
    matches = None
    if request.method == "POST" and form.is_valid():
        criteria = form.criteria()
        if "preview" in request.POST:
            matches = count_candidates(county, criteria)
        else:
            try:
                batch = create_visit_batch(
                    request.user, county, form.cleaned_data["name"], criteria
                )
            except PermissionDenied as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    _("Visit batch saved with {count} enterprises.").format(count=batch.size),
                )
                return redirect("banks:batch_detail", pk=batch.pk)
    context = {"county": county, "form": form, "matches": matches}
    return render(request, "banks/batch_form.html", context)


def describe_criteria(criteria):
    """[(label, value)] of a batch's criteria, in the user's language."""
    rows = []
    if criteria.get("tiers"):
        rows.append((_("Tiers"), "、".join(str(t) for t in criteria["tiers"])))
    if criteria.get("ratings"):
        rows.append((_("Tax credit ratings"), "、".join(criteria["ratings"])))
    if criteria.get("loan") == "no_loan":
        rows.append((_("Loans"), _("No-loan only")))
    elif criteria.get("loan") == "has_loan":
        rows.append((_("Loans"), _("Has-loan only")))
    if criteria.get("banks_min") is not None:
        rows.append((_("Lending banks, at least"), str(criteria["banks_min"])))
    if criteria.get("banks_max") is not None:
        rows.append((_("Lending banks, at most"), str(criteria["banks_max"])))
    if criteria.get("townships"):
        names = Region.objects.filter(code__in=criteria["townships"]).values_list("name", flat=True)
        rows.append((_("Townships"), "、".join(names)))
    if criteria.get("foreign_trade"):
        rows.append((_("Foreign trade only"), _("yes")))
    return rows


@login_required
def batch_detail(request, pk):
    batch = get_object_or_404(
        VisitBatch.objects.restrict(request.user).select_related("region", "created_by"), pk=pk
    )
    members = batch.members.select_related("enterprise__region").order_by("enterprise_id")
    page = paginate(request, members)
    prefetch_related_objects(page.object_list, "enterprise__bank_assignments__bank")
    for member in page.object_list:
        member.banks = {a.role: a.bank for a in member.enterprise.bank_assignments.all()}
        member.lead = member.banks.get(AssignmentRole.LEAD)
        member.backup = member.banks.get(AssignmentRole.BACKUP)
    context = {
        "batch": batch,
        "criteria": describe_criteria(batch.criteria),
        "page": page,
        "runs": batch.runs.restrict(request.user).select_related("created_by")[:20],
        "can_allocate": counties_for_user(request.user, "allocate")
        .filter(pk=batch.region_id)
        .exists(),
    }
    return render(request, "banks/batch_detail.html", context)


@login_required
@require_POST
def allocate_start(request):
    """Enqueue the allocation of a visit batch, or of a county's whole key-visit list."""
    batch_id = request.POST.get("batch")
    if batch_id:
        batch = get_object_or_404(
            VisitBatch.objects.restrict(request.user, "allocate").select_related("region"),
            pk=batch_id,
        )
        county, params = batch.region, {"batch": batch.pk}
    else:
        county = get_object_or_404(
            counties_for_user(request.user, "allocate"), pk=request.POST.get("county") or ""
        )
        params = {}
    job = jobs.enqueue("banks.allocate", user=request.user, region=county, params=params)
    messages.success(request, _("The allocation has started."))
    return redirect("core:job_detail", pk=job.pk)


def branch_loads(run, user):
    """[{bank, lead, backup, capacity, fill}] of the run's branches, most loaded first."""
    counts = {}
    for bank_id, role, number in (
        BankAssignment.objects.restrict(user)
        .filter(run=run)
        .values("bank_id", "role")
        .annotate(number=Count("pk"))
        .values_list("bank_id", "role", "number")
    ):
        counts.setdefault(bank_id, {})[role] = number
    rows = []
    for bank in Bank.objects.filter(code__in=list(counts)).only("code", "name", "capacity"):
        lead = counts[bank.code].get(AssignmentRole.LEAD, 0)
        backup = counts[bank.code].get(AssignmentRole.BACKUP, 0)
        fill = round(100 * lead / bank.capacity) if bank.capacity else None
        rows.append(
            {"bank": bank, "lead": lead, "backup": backup, "capacity": bank.capacity, "fill": fill}
        )
    return sorted(rows, key=lambda row: (-row["lead"], -row["backup"], row["bank"].code))


@login_required
def run_detail(request, pk):
    run = get_object_or_404(
        AllocationRun.objects.restrict(request.user).select_related(
            "region", "visit_batch", "created_by", "job"
        ),
        pk=pk,
    )
    summary = run.summary or {}
    unplaced = (
        UnplacedEnterprise.objects.restrict(request.user)
        .filter(run=run)
        .select_related("enterprise__region")
    )
    reasons = [
        (UnplacedReason(code).label if code in UnplacedReason.values else code, number)
        for code, number in sorted((summary.get("unplaced_by_reason") or {}).items())
    ]
    due_on = summary.get("due_on")
    loads = summary.get("loads") or {}
    context = {
        "run": run,
        "summary": summary,
        "reasons": reasons,
        "due_on": date.fromisoformat(due_on) if due_on else None,
        "loads": [
            (AssignmentRole(role).label, loads[role])
            for role in AssignmentRole.values
            if role in loads
        ],
        "branches": branch_loads(run, request.user),
        "page": paginate(request, unplaced),
        "can_export": request.user.scope.allows("export"),
    }
    return render(request, "banks/run_detail.html", context)


def assignment_rows(run, user):
    """The run's assignments as spreadsheet rows (header first), personal data as the user
    may see it; a bounded number of queries whatever the size."""
    yield [
        _("USCC"),
        _("Name"),
        _("Legal representative"),
        _("Phone"),
        _("Township"),
        _("Role"),
        _("Bank code"),
        _("Bank"),
        _("Institution"),
        _("Status"),
        _("Feedback due on"),
        _("Township worker"),
        _("Why this bank"),
    ]
    parents = dict(Bank.objects.values_list("code", "parent_id"))
    names = dict(Bank.objects.values_list("code", "name"))
    region_names = dict(Region.objects.values_list("code", "name"))
    rows = (
        BankAssignment.objects.restrict(user, "export")
        .filter(run=run)
        .select_related("enterprise", "bank", "township_worker")
        .order_by("enterprise_id", "role")
    )
    for a in rows.iterator(chunk_size=2000):
        e = a.enterprise
        legal_rep, phone = personal_fields(e, user)
        worker = a.township_worker
        yield [
            e.uscc,
            e.name,
            legal_rep,
            phone,
            region_names.get(e.region_id, e.region_id),
            a.get_role_display(),
            a.bank_id,
            a.bank.name,
            names.get(institution_of(a.bank_id, parents), ""),
            a.get_status_display(),
            a.due_on,
            worker.display_name if worker else "",
            explain(a, region_names=region_names),
        ]


@login_required
def run_export(request, pk):
    if not request.user.scope.allows("export"):
        raise Http404
    run = get_object_or_404(AllocationRun.objects.restrict(request.user, "export"), pk=pk)
    handle = write_xlsx(assignment_rows(run, request.user), _("Assignments"))
    name = f"allocation-{run.pk}-{run.created_at:%Y%m%d}.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name)


@login_required
def assignment_override(request, pk):
    assignment = get_object_or_404(
        BankAssignment.objects.restrict(request.user, "allocate").select_related(
            "enterprise__region", "bank"
        ),
        pk=pk,
    )
    form = OverrideForm(override_candidates(assignment), request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            override_assignment(
                request.user, assignment, form.cleaned_data["bank"], form.cleaned_data["reason"]
            )
        except (PermissionDenied, ValidationError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("The assignment was changed."))
            return redirect("enterprises:detail", pk=assignment.enterprise_id)
    context = {"assignment": assignment, "form": form, "why": explain(assignment)}
    return render(request, "banks/assignment_override.html", context)
