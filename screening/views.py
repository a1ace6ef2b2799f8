from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import jobs
from core.views import paginate
from enterprises.models import Region

from .choices import ChangeKind, ListType
from .filters import ExclusionFilter, MembershipFilter
from .models import ListChange, ListExclusion, ScreeningRun
from .reasons import describe, own_reasons, with_hints
from .selectors import current_memberships, with_own_first_loan
from .services.export import membership_rows, write_xlsx

EXCLUDED = "excluded"  # pseudo-list: registered but not active, with reasons


def _list_type(request):
    value = request.GET.get("list") or ListType.ACTIVE
    if value != EXCLUDED and value not in ListType.values:
        raise Http404
    return value


def _filtered(request, list_type, action="view"):
    if list_type == EXCLUDED:
        queryset = ListExclusion.objects.filter(
            list_type=ListType.ACTIVE, run__is_current=True, run__status="succeeded"
        )
        filterset = ExclusionFilter(
            request.GET, queryset=queryset.restrict(request.user, action), request=request
        )
    else:
        queryset = current_memberships(list_type)
        filterset = MembershipFilter(
            request.GET, queryset=queryset.restrict(request.user, action), request=request
        )
    return filterset


@login_required
def index(request):
    list_type = _list_type(request)
    filterset = _filtered(request, list_type)
    rows = with_own_first_loan(filterset.qs, request.user).select_related("enterprise__region")
    rows = rows.order_by(
        *(["-repairable", "obstacles"] if list_type == EXCLUDED else ["tier", "batch_no"]),
        "enterprise_id",
    )
    page = paginate(request, rows)
    for row in page.object_list:
        reasons = own_reasons(row)
        row.reason_texts = with_hints(reasons) if list_type == EXCLUDED else describe(reasons)
    tabs = [(value, label) for value, label in ListType.choices] + [
        (EXCLUDED, _("Not active (why)"))
    ]
    context = {
        "list_type": list_type,
        "tabs": tabs,
        "filter": filterset,
        "page": page,
        "can_screen": request.user.scope.allows("screen"),
        "can_export": request.user.scope.allows("export") and list_type != EXCLUDED,
    }
    return render(request, "screening/index.html", context)


@login_required
def export(request):
    list_type = _list_type(request)
    if list_type == EXCLUDED or not request.user.scope.allows("export"):
        raise Http404
    filterset = _filtered(request, list_type, action="export")
    rows = membership_rows(with_own_first_loan(filterset.qs, request.user))
    handle = write_xlsx(rows, str(ListType(list_type).label))
    name = f"{list_type}-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name)


@login_required
def run_list(request):
    runs = ScreeningRun.objects.restrict(request.user).select_related(
        "region", "rule_set", "created_by"
    )
    return render(request, "screening/run_list.html", {"page": paginate(request, runs)})


@login_required
def run_detail(request, pk):
    run = get_object_or_404(
        ScreeningRun.objects.restrict(request.user).select_related("region", "rule_set"), pk=pk
    )
    changes = (
        with_own_first_loan(ListChange.objects.filter(run=run), request.user)
        .restrict(request.user)
        .select_related("enterprise")
        .order_by("list_type", "change", "enterprise_id")
    )
    list_type = request.GET.get("list")
    if list_type in ListType.values:
        changes = changes.filter(list_type=list_type)
    change = request.GET.get("change")
    if change in ChangeKind.values:
        changes = changes.filter(change=change)
    page = paginate(request, changes)
    for row in page.object_list:
        row.reason_texts = describe(own_reasons(row))
    context = {
        "run": run,
        "page": page,
        "list_types": ListType.choices,
        "change_kinds": ChangeKind.choices,
        "counts": sorted(run.counts.items()),
    }
    return render(request, "screening/run_detail.html", context)


@login_required
@require_POST
def rebuild(request):
    if not request.user.scope.allows("screen"):
        raise Http404
    code = request.POST.get("region") or ""
    region = Region.objects.filter(code=code).first() if code else request.user.region
    if code and region is None:  # an unknown code never means "every county"
        raise Http404
    prefix = request.user.scope.region_prefix
    if region is None and not request.user.scope.everything:
        raise Http404
    if region is not None and prefix and not region.code.startswith(prefix):
        raise Http404
    job = jobs.enqueue("screening.rebuild", user=request.user, region=region)
    messages.success(request, _("The lists are being rebuilt."))
    return redirect("core:job_detail", pk=job.pk)
