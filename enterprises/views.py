from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.views import paginate

from .choices import ImportKind, ImportStatus
from .filters import EnterpriseFilter
from .forms import ImportUploadForm
from .models import Enterprise, ImportBatch
from .services.import_report import write_error_report
from .services.privacy import personal_fields
from .services.uploads import (
    apply_refusal,
    create_batch_from_upload,
    enqueue_import,
    settle_stuck_batches,
)


def get_enterprise_for_user(request, pk, action="view"):
    """The enterprise if the user may perform ``action`` on it, else 404."""
    return get_object_or_404(
        Enterprise.objects.restrict(request.user, action).select_related("region", "batch"), pk=pk
    )


@login_required
def enterprise_list(request):
    queryset = Enterprise.objects.restrict(request.user).select_related("region")
    filterset = EnterpriseFilter(request.GET, queryset=queryset)
    return render(
        request,
        "enterprises/enterprise_list.html",
        {"filter": filterset, "page": paginate(request, filterset.qs)},
    )


@login_required
def enterprise_detail(request, pk):
    enterprise = get_enterprise_for_user(request, pk)
    legal_rep, phone = personal_fields(enterprise, request.user)
    context = {
        "enterprise": enterprise,
        "legal_rep": legal_rep,
        "phone": phone,
        "census_records": enterprise.census_records.select_related("batch")[:10],
        "tax_records": enterprise.tax_records.select_related("batch")[:10],
        "negative_entries": enterprise.negative_entries.select_related("batch")[:20],
        "credit_snapshots": enterprise.credit_snapshots.select_related("bank", "batch")[:20],
        "loans": enterprise.loans.select_related("bank", "batch")[:20],
        "can_import": request.user.scope.allows("import"),
    }
    return render(request, "enterprises/enterprise_detail.html", context)


# --- Imports ----------------------------------------------------------------------------


def _require_import(request):
    if not request.user.scope.allows("import"):
        raise PermissionDenied(_("You may not import data."))


def get_batch_for_user(request, pk):
    """The import batch if the user may import and it is in their scope, else 404."""
    settle_stuck_batches(ImportBatch.objects.filter(pk=pk))
    return get_object_or_404(
        ImportBatch.objects.restrict(request.user, "import").select_related("created_by", "job"),
        pk=pk,
    )


@login_required
def import_list(request):
    _require_import(request)
    settle_stuck_batches()
    queryset = ImportBatch.objects.restrict(request.user, "import").select_related(
        "created_by", "job"
    )
    kind = request.GET.get("kind")
    if kind:
        queryset = queryset.filter(kind=kind)
    return render(
        request,
        "enterprises/import_list.html",
        {"page": paginate(request, queryset), "kinds": ImportKind.choices, "kind": kind},
    )


@login_required
def import_upload(request):
    _require_import(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        batch = create_batch_from_upload(
            request.user, form.cleaned_data["kind"], form.cleaned_data["file"]
        )
        job = enqueue_import(request.user, batch, dry_run=True)
        return redirect("core:job_detail", pk=job.pk)
    return render(
        request,
        "enterprises/import_upload.html",
        {"form": form, "max_mb": settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024)},
    )


@login_required
def import_detail(request, pk):
    _require_import(request)
    batch = get_batch_for_user(request, pk)
    errors = batch.errors.all()[:500]
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
    response = HttpResponse(
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stem = Path(batch.file_name).stem or "import"
    response["Content-Disposition"] = (
        f"attachment; filename=\"errors-{batch.pk}.xlsx\"; filename*=UTF-8''"
        f"{quote(stem)}-errors-{batch.pk}.xlsx"
    )
    write_error_report(batch, response)
    return response
