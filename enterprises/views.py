from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import jobs
from core.models import Job
from core.views import paginate
from core.writes import scoped_save

from .choices import ImportKind, ImportStatus
from .filters import EnterpriseFilter
from .forms import ImportUploadForm
from .jobs import DRY_RUN_KIND, IMPORT_KIND, import_panel_context, trial_batches_q
from .models import Enterprise, ImportBatch
from .services.import_report import write_error_report
from .services.import_templates import column_rows, spec_for, write_template
from .services.privacy import masked_errors, personal_fields
from .services.uploads import (
    apply_refusal,
    create_batch_from_upload,
    enqueue_import,
)
from .timeline import DEFAULT_LIMIT, MAX_LIMIT, clamp_limit, timeline


def get_enterprise_for_user(request, pk, action="view"):
    """The enterprise if the user may perform ``action`` on it, else 404."""
    return get_object_or_404(
        Enterprise.objects.restrict(request.user, action).select_related("region", "batch"), pk=pk
    )


@login_required
def enterprise_list(request):
    queryset = Enterprise.objects.restrict(request.user).select_related("region")
    filterset = EnterpriseFilter(request.GET, queryset=queryset, request=request)
    return render(
        request,
        "enterprises/enterprise_list.html",
        {"filter": filterset, "page": paginate(request, filterset.qs)},
    )


def bank_rows_for_user(enterprise, user):
    """The enterprise's credit snapshots and loans this user may read, and whether it has
    loans at banks outside the user's scope (shown only as that fact: no names, no amounts)."""
    credit = enterprise.credit_snapshots.restrict(user)
    loans = enterprise.loans.restrict(user)
    elsewhere = (
        enterprise.loans.exclude(pk__in=loans.values("pk")).exists()
        or enterprise.credit_snapshots.exclude(pk__in=credit.values("pk"))
        .filter(Q(loan_balance__gt=0) | Q(first_loan_date__isnull=False))
        .exists()
    )
    return credit, loans, elsewhere


@login_required
def enterprise_detail(request, pk):
    user = request.user
    enterprise = get_enterprise_for_user(request, pk)
    legal_rep, phone = personal_fields(enterprise, user)
    # A page shows only the rows its user could read through the API: each table is scoped.
    credit, loans, loans_elsewhere = bank_rows_for_user(enterprise, user)
    context = {
        "enterprise": enterprise,
        "legal_rep": legal_rep,
        "phone": phone,
        "census_records": enterprise.census_records.restrict(user).select_related("batch")[:10],
        "tax_records": enterprise.tax_records.restrict(user).select_related("batch")[:10],
        "negative_entries": enterprise.negative_entries.restrict(user).select_related("batch")[:20],
        "credit_snapshots": credit.select_related("bank", "batch")[:20],
        "loans": loans.select_related("bank", "batch")[:20],
        "loans_elsewhere": loans_elsewhere,
        "can_import": user.scope.allows("import"),
        **timeline_context(request, enterprise),
    }
    return render(request, "enterprises/enterprise_detail.html", context)


def timeline_context(request, enterprise):
    """The enterprise's timeline as the user may read it: the newest ``limit`` events."""
    limit = clamp_limit(request.GET.get("limit", DEFAULT_LIMIT))
    events, has_more = timeline(enterprise, request.user, limit)
    return {
        "timeline": events,
        "timeline_more": min(limit + DEFAULT_LIMIT, MAX_LIMIT) if has_more else None,
        "timeline_capped": has_more and limit >= MAX_LIMIT,
    }


@login_required
def enterprise_timeline(request, pk):
    """The timeline part of the enterprise page, for htmx's "more" (a larger ``limit``)."""
    enterprise = get_enterprise_for_user(request, pk)
    context = {"enterprise": enterprise, **timeline_context(request, enterprise)}
    return render(request, "enterprises/_timeline.html", context)


# --- Imports ----------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_import(request):
    if not request.user.scope.allows("import"):
        raise PermissionDenied(_("You may not import data."))


def get_batch_for_user(request, pk):
    """The import batch if the user may import and it is in their scope, else 404."""
    jobs.fail_stale_jobs()  # a batch whose job was lost is settled as failed (core.signals)
    return get_object_or_404(
        ImportBatch.objects.restrict(request.user, "import").select_related("created_by", "job"),
        pk=pk,
    )


@login_required
def import_list(request):
    _require_import(request)
    jobs.fail_stale_jobs()
    queryset = ImportBatch.objects.restrict(request.user, "import").select_related(
        "created_by", "job"
    )
    kind = request.GET.get("kind")
    if kind:
        queryset = queryset.filter(kind=kind)
    # Trial imports change nothing: they are listed apart, real imports first.
    trial = request.GET.get("mode") == "trial"
    queryset = queryset.filter(trial_batches_q()) if trial else queryset.exclude(trial_batches_q())
    return render(
        request,
        "enterprises/import_list.html",
        {
            "page": paginate(request, queryset),
            "kinds": ImportKind.choices,
            "kind": kind,
            "trial": trial,
        },
    )


@login_required
def import_upload(request):
    _require_import(request)
    preselected = request.GET.get("kind")
    initial = {"kind": preselected} if preselected in ImportKind.values else {}
    form = ImportUploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        batch = scoped_save(
            request.user,
            "import",
            lambda: create_batch_from_upload(
                request.user, form.cleaned_data["kind"], form.cleaned_data["file"]
            ),
        )
        job = enqueue_import(request.user, batch, dry_run=True)
        return redirect("core:job_detail", pk=job.pk)
    kind = form["kind"].value()
    kind = kind if spec_for(kind) is not None else ImportKind.REGISTRY
    context = {
        "form": form,
        "max_mb": settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024),
        "kind": kind,
        "kind_label": ImportKind(kind).label,
        "columns": column_rows(kind),
    }
    if request.htmx and request.method == "GET":
        # The column list of the kind just picked in the form.
        return render(request, "enterprises/_import_columns.html", context)
    return render(request, "enterprises/import_upload.html", context)


@login_required
def import_template(request, kind):
    """A template .xlsx of ``kind``: the contract's headers and one example row."""
    _require_import(request)
    if spec_for(kind) is None or kind not in ImportKind.values:
        raise Http404
    response = HttpResponse(content_type=XLSX)
    name = f"{ImportKind(kind).label}-{_('template')}.xlsx"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{kind}-template.xlsx\"; filename*=UTF-8''{quote(name)}"
    )
    write_template(kind, request.user, response)
    return response


@login_required
def import_job_panel(request, job_pk):
    """The import part of a job page, reloaded by htmx until the job is finished."""
    job = get_object_or_404(
        Job.objects.restrict(request.user), pk=job_pk, kind__in=[IMPORT_KIND, DRY_RUN_KIND]
    )
    panel = import_panel_context(request, job)
    if panel is None:
        raise Http404
    return render(request, "enterprises/_import_job_panel.html", {"panel": panel})


@login_required
def import_detail(request, pk):
    _require_import(request)
    batch = get_batch_for_user(request, pk)
    errors = masked_errors(batch, request.user, batch.errors.all()[:500])
    return render(
        request,
        "enterprises/import_detail.html",
        {"batch": batch, "errors": errors, "can_apply": batch.status == ImportStatus.DRY_RUN},
    )


@login_required
@require_POST
def import_apply(request, pk):
    _require_import(request)
    batch = get_batch_for_user(request, pk)
    force = bool(request.POST.get("force"))
    skip_bad_rows = bool(request.POST.get("skip_bad_rows"))
    refusal = apply_refusal(batch, force=force, skip_bad_rows=skip_bad_rows)
    if refusal is None and (force or skip_bad_rows) and not request.POST.get("confirm"):
        refusal = _("Tick the confirmation box first.")
    if refusal:
        messages.error(request, refusal)
        return redirect("enterprises:import_detail", pk=batch.pk)
    job = enqueue_import(
        request.user, batch, force=force or batch.forced, skip_bad_rows=skip_bad_rows
    )
    return redirect("core:job_detail", pk=job.pk)


@login_required
def import_error_report(request, pk):
    _require_import(request)
    batch = get_batch_for_user(request, pk)
    response = HttpResponse(content_type=XLSX)
    stem = Path(batch.file_name).stem or "import"
    response["Content-Disposition"] = (
        f"attachment; filename=\"errors-{batch.pk}.xlsx\"; filename*=UTF-8''"
        f"{quote(stem)}-errors-{batch.pk}.xlsx"
    )
    write_error_report(batch, response, request.user)
    return response
