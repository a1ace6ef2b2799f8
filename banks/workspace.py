"""The bank officer's workspace (their home page) and the staff's "needs attention" list.

A bank officer sees the enterprises assigned to their branch (and the branches below it) as
lead, or handed to it as backup; nothing of the other bank. Each page reads a fixed number of
queries whatever its size: the rows, their count, the calendar once for the days left.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.views import paginate
from core.workdays import working_days_until
from screening.services.export import write_xlsx

from .choices import AssignmentRole, AssignmentStatus, FeedbackStatus, HandOffCause
from .models import AllocationRun, Bank, BankAssignment, HandOff, UnplacedEnterprise
from .panels import ATTENTION_PANELS, WORKSPACE_PANELS, render_list
from .services.feedback import record_feedback

# Statuses a bank officer filters by (a backup standing by is not theirs yet).
WORKSPACE_STATUSES = [(v, label) for v, label in AssignmentStatus.choices if v != "waiting"]


def _bank_user(request, action="view"):
    if request.user.scope.bank_codes is None or not request.user.scope.allows(action):
        raise PermissionDenied(_("The workspace is for bank officers."))


def my_assignments(user):
    """The user's bank's assignments: leads, and backups once handed to it."""
    return BankAssignment.objects.restrict(user).exclude(status=AssignmentStatus.WAITING)


def filtered(request, today):
    """My assignments narrowed by the page's filters (status, overdue, search)."""
    queryset = my_assignments(request.user).select_related("enterprise", "bank")
    status = request.GET.get("status", "")
    if status in dict(WORKSPACE_STATUSES):
        queryset = queryset.filter(status=status)
    if request.GET.get("overdue"):
        queryset = queryset.filter(status=AssignmentStatus.PENDING, due_on__lt=today)
    search = request.GET.get("q", "").strip()
    if search:
        queryset = queryset.filter(
            Q(enterprise__name__icontains=search) | Q(enterprise__uscc__istartswith=search)
        )
    # Soonest deadline first; ordering by assignment columns only lets PostgreSQL pick the
    # page from the branch's rows before joining the enterprises.
    return queryset.order_by("due_on", "pk")


def annotate_clocks(assignments, today):
    """Set ``days_left`` and ``overdue`` on each assignment (the calendar is read once)."""
    assignments = list(assignments)
    open_ones = {a.pk for a in assignments if a.status == AssignmentStatus.PENDING and a.due_on}
    left = working_days_until(today, [a.due_on for a in assignments if a.pk in open_ones])
    for assignment in assignments:
        is_open = assignment.pk in open_ones
        assignment.overdue = is_open and assignment.due_on < today
        assignment.days_left = left[assignment.due_on] if is_open else None
    return assignments


@login_required
def workspace(request):
    _bank_user(request)
    user, today = request.user, timezone.localdate()
    page = paginate(request, filtered(request, today))
    page.object_list = annotate_clocks(page.object_list, today)
    loads = None
    if Bank.objects.filter(parent_id=user.bank_id).exists():
        overdue = Q(status=AssignmentStatus.PENDING, due_on__lt=today)
        loads = (
            my_assignments(user)
            .values("bank_id", "bank__name")
            .annotate(
                total=Count("pk"),
                pending=Count("pk", filter=Q(status=AssignmentStatus.PENDING)),
                overdue=Count("pk", filter=overdue),
            )
            .order_by("bank_id")
        )
    context = {
        "page": page,
        "today": today,
        "statuses": WORKSPACE_STATUSES,
        "feedback_statuses": FeedbackStatus.choices,
        "status": request.GET.get("status", ""),
        "overdue": bool(request.GET.get("overdue")),
        "q": request.GET.get("q", ""),
        "loads": loads,
        "may_answer": user.scope.allows("report"),
        "panels": render_list(WORKSPACE_PANELS, request),
    }
    return render(request, "banks/workspace.html", context)


def export_rows(assignments, today):
    yield [
        _("USCC"),
        _("Name"),
        _("Our role"),
        _("Our branch"),
        _("Status"),
        _("Feedback due on"),
        _("Working days left"),
    ]
    due_dates = assignments.filter(status=AssignmentStatus.PENDING).values_list("due_on", flat=True)
    left = working_days_until(today, set(due_dates.distinct()))
    for a in assignments.iterator(chunk_size=5000):
        is_open = a.status == AssignmentStatus.PENDING and a.due_on
        yield [
            a.enterprise.uscc,
            a.enterprise.name,
            a.get_role_display(),
            a.bank.name,
            a.get_status_display(),
            a.due_on,
            left.get(a.due_on) if is_open else None,
        ]


@login_required
def workspace_export(request):
    _bank_user(request, "export")
    today = timezone.localdate()
    handle = write_xlsx(export_rows(filtered(request, today), today), _("My enterprises"))
    return FileResponse(handle, as_attachment=True, filename=f"assignments-{today:%Y%m%d}.xlsx")


@login_required
@require_POST
def workspace_feedback(request, pk):
    """One-click feedback from a row of the workspace (htmx answers the row)."""
    _bank_user(request, "report")
    assignment = get_object_or_404(
        my_assignments(request.user).select_related("enterprise", "bank"), pk=pk
    )
    errors = {}
    try:
        record_feedback(
            request.user, assignment, request.POST.get("status", ""), request.POST.get("reason", "")
        )
    except ValidationError as exc:
        errors = exc.message_dict
    if not request.htmx:
        return redirect("banks:workspace")
    today = timezone.localdate()
    context = {
        "a": annotate_clocks([assignment], today)[0],
        "feedback_statuses": FeedbackStatus.choices,
        "may_answer": True,
        "errors": errors,
        "done": not errors,
    }
    return render(request, "banks/workspace_row.html", context)


# --- Needs attention (staff) -------------------------------------------------------------


def attention_querysets(user, today):
    """{kind: queryset} of what needs the task force's attention in the user's region."""
    assignments = BankAssignment.objects.restrict(user).select_related("enterprise", "bank")
    handoffs = HandOff.objects.restrict(user).select_related(
        "enterprise", "from_assignment__bank", "to_assignment__bank"
    )
    latest_runs = (
        AllocationRun.objects.restrict(user)
        .values("region")
        .annotate(last=Max("pk"))
        .values("last")
    )
    return {
        "overdue": assignments.filter(status=AssignmentStatus.PENDING, due_on__lt=today).order_by(
            "due_on", "pk"
        ),
        "handed_off": handoffs.filter(to_assignment__isnull=False),
        "declined_by_both": handoffs.filter(
            to_assignment__isnull=True,
            cause=HandOffCause.DECLINED,
            from_assignment__role=AssignmentRole.BACKUP,
        ),
        "unplaced": UnplacedEnterprise.objects.restrict(user)
        .filter(run_id__in=latest_runs)
        .select_related("enterprise__region")
        .order_by("enterprise__name", "pk"),
    }


def attention_labels():
    return {
        "overdue": _("Overdue"),
        "handed_off": _("Handed to the backup bank"),
        "declined_by_both": _("Declined by both banks"),
        "unplaced": _("No serving bank"),
    }


@login_required
def needs_attention(request):
    user = request.user
    if user.scope.bank_codes is not None or not user.scope.allows("allocate"):
        raise PermissionDenied(_("The list is for task-force staff."))
    today = timezone.localdate()
    querysets = attention_querysets(user, today)
    search = request.GET.get("q", "").strip()
    region = request.GET.get("region", "").strip()
    for kind, queryset in querysets.items():
        if search:
            queryset = queryset.filter(
                Q(enterprise__name__icontains=search) | Q(enterprise__uscc__istartswith=search)
            )
        if region:
            queryset = queryset.filter(enterprise__region__code__startswith=region)
        querysets[kind] = queryset
    labels = attention_labels()
    kind = request.GET.get("kind") if request.GET.get("kind") in labels else "overdue"
    page = paginate(request, querysets[kind])
    if kind == "overdue":
        page.object_list = annotate_clocks(page.object_list, today)
    tabs = [(key, label, querysets[key].count()) for key, label in labels.items()]
    context = {
        "tabs": tabs,
        "kind": kind,
        "page": page,
        "q": search,
        "region": region,
        "panels": render_list(ATTENTION_PANELS, request),
    }
    return render(request, "banks/needs_attention.html", context)
