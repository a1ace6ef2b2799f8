"""The bank officer's workspace (their home page) and the staff's "needs attention" list.

A bank officer sees the enterprises assigned to their branch (and the branches below it) as
lead, or handed to it as backup; nothing of the other bank. Each page reads a fixed number of
queries whatever its size: the rows, their count, the calendar once for the days left.
"""

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.views import paginate
from core.workdays import working_days_until
from screening.services.export import write_xlsx

from .choices import AssignmentRole, AssignmentStatus, FeedbackStatus, HandOffCause
from .forms import FeedbackForm
from .models import AllocationRun, Bank, BankAssignment, BankFeedback, HandOff, UnplacedEnterprise
from .panels import ATTENTION_PANELS, WORKSPACE_PANELS, render_list
from .services.feedback import CLOSED, DECISION_MOOT, decision_overdue_q, record_feedback

# Statuses a bank officer filters by (a backup standing by is not theirs yet).
WORKSPACE_STATUSES = [(v, label) for v, label in AssignmentStatus.choices if v != "waiting"]
# The one-click answers of a row; a credit decision needs the full form (reason, amount).
QUICK_STATUSES = [
    (v, label)
    for v, label in FeedbackStatus.choices
    if v not in (FeedbackStatus.CREDITED, FeedbackStatus.DECLINED)
]


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
    if request.GET.get("decision_overdue"):
        queryset = queryset.filter(decision_overdue_q(today))
    if request.GET.get("recommended"):
        recommended = recommended_to(request.user).values("enterprise_id")
        queryset = queryset.filter(enterprise_id__in=recommended)
    search = request.GET.get("q", "").strip()
    if search:
        queryset = queryset.filter(
            Q(enterprise__name__icontains=search) | Q(enterprise__uscc__istartswith=search)
        )
    # Soonest deadline first; ordering by assignment columns only lets PostgreSQL pick the
    # page from the branch's rows before joining the enterprises.
    return queryset.order_by("due_on", "pk")


def recommended_to(user):
    """Recommendations (visits.Recommendation, pushed: with a date) to the user's branches.

    Read by model name: visits sits above banks, whose code never imports it.
    """
    recommendation = apps.get_model("visits", "Recommendation")
    return recommendation.objects.restrict(user).filter(recommended_on__isnull=False)


def decision_state(assignment, today):
    """(overdue, days overdue, days left) of the assignment's credit-decision clock."""
    due = assignment.decision_due_on
    if due is None or assignment.decided_on is not None or assignment.status in DECISION_MOOT:
        return False, None, None
    days = (today - due).days
    return (True, days, None) if days > 0 else (False, None, -days)


def annotate_clocks(assignments, today, user=None):
    """Set ``days_left`` and ``overdue`` on each assignment (the calendar is read once), the
    decision clock (``decision_overdue``, ``decision_days_overdue``, ``decision_days_left``,
    calendar days) and, with ``user``, ``recommended_on`` (one query for the page)."""
    assignments = list(assignments)
    open_ones = {a.pk for a in assignments if a.status == AssignmentStatus.PENDING and a.due_on}
    left = working_days_until(today, [a.due_on for a in assignments if a.pk in open_ones])
    recommended = {}
    if user is not None and assignments:
        recommended = dict(
            recommended_to(user)
            .filter(enterprise_id__in=[a.enterprise_id for a in assignments])
            .values("enterprise_id")
            .annotate(last=Max("recommended_on"))
            .values_list("enterprise_id", "last")
        )
    for assignment in assignments:
        is_open = assignment.pk in open_ones
        assignment.overdue = is_open and assignment.due_on < today
        assignment.days_left = left[assignment.due_on] if is_open else None
        (
            assignment.decision_overdue,
            assignment.decision_days_overdue,
            assignment.decision_days_left,
        ) = decision_state(assignment, today)
        assignment.recommended_on = recommended.get(assignment.enterprise_id)
    return assignments


@login_required
def workspace(request):
    _bank_user(request)
    user, today = request.user, timezone.localdate()
    page = paginate(request, filtered(request, today))
    page.object_list = annotate_clocks(page.object_list, today, user)
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
        "feedback_statuses": QUICK_STATUSES,
        "status": request.GET.get("status", ""),
        "overdue": bool(request.GET.get("overdue")),
        "decision_overdue": bool(request.GET.get("decision_overdue")),
        "recommended": bool(request.GET.get("recommended")),
        "decisions_overdue": my_assignments(user).filter(decision_overdue_q(today)).count(),
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
        _("Materials complete on"),
        _("Credit decision due on"),
        _("Days overdue"),
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
            a.materials_complete_on,
            a.decision_due_on,
            decision_state(a, today)[1],
        ]


@login_required
def workspace_export(request):
    _bank_user(request, "export")
    today = timezone.localdate()
    handle = write_xlsx(export_rows(filtered(request, today), today), _("My enterprises"))
    return FileResponse(handle, as_attachment=True, filename=f"assignments-{today:%Y%m%d}.xlsx")


def feedback_arguments(form):
    """record_feedback's keyword arguments from a valid FeedbackForm."""
    data = form.cleaned_data
    today = timezone.localdate()
    return {
        "status": data["status"],
        "reason": data.get("reason") or "",
        "decline_reason": data.get("decline_reason") or "",
        "credit_amount": data.get("credit_amount"),
        "credit_product": data.get("credit_product") or "",
        "materials_complete_on": today if data.get("materials_complete") else None,
    }


def answer_with(request, assignment, form):
    """Record the form's answer; on a refusal put the service's errors on the form's fields.
    Returns True when saved."""
    if not form.is_valid():
        return False
    try:
        record_feedback(request.user, assignment, **feedback_arguments(form))
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            target = "materials_complete" if field == "materials_complete_on" else field
            for error in errors:
                form.add_error(target if target in form.fields else None, error)
        return False
    return True


@login_required
@require_POST
def workspace_feedback(request, pk):
    """One-click feedback from a row of the workspace (htmx answers the row)."""
    _bank_user(request, "report")
    assignment = get_object_or_404(
        my_assignments(request.user).select_related("enterprise", "bank"), pk=pk
    )
    form = FeedbackForm(request.POST)
    done = answer_with(request, assignment, form)
    if not request.htmx:
        return redirect("banks:workspace")
    today = timezone.localdate()
    context = {
        "a": annotate_clocks([assignment], today, request.user)[0],
        "feedback_statuses": QUICK_STATUSES,
        "may_answer": True,
        "errors": {} if done else form.errors,
        "done": done,
    }
    return render(request, "banks/workspace_row.html", context)


@login_required
def feedback_page(request, pk):
    """The full feedback form of one of my enterprises (credit decisions, materials complete),
    with the assignment's clocks and its earlier answers."""
    _bank_user(request)
    assignment = get_object_or_404(
        my_assignments(request.user).select_related("enterprise__region", "bank"), pk=pk
    )
    may_answer = request.user.scope.allows("report") and assignment.status not in CLOSED
    form = FeedbackForm(request.POST or None)
    if request.method == "POST":
        if not may_answer:
            raise PermissionDenied(_("Only the assigned bank may answer for this enterprise."))
        if answer_with(request, assignment, form):
            messages.success(request, _("The feedback was saved."))
            return redirect("banks:workspace")
    today = timezone.localdate()
    earlier = (
        BankFeedback.objects.restrict(request.user)
        .filter(assignment=assignment)
        .select_related("created_by")[:50]
    )
    context = {
        "a": annotate_clocks([assignment], today, request.user)[0],
        "form": form,
        "earlier": earlier,
        "may_answer": may_answer,
        "today": today,
    }
    return render(request, "banks/feedback_form.html", context)


@login_required
def feedback_for_enterprise(request, enterprise_pk):
    """The feedback form of my open assignment of an enterprise: the link other pages use
    (the recommendation list, the enterprise page) without knowing the assignment."""
    _bank_user(request)
    assignment = (
        my_assignments(request.user)
        .filter(enterprise_id=enterprise_pk)
        .exclude(status__in=CLOSED)
        .order_by("pk")  # lead and backup are of two institutions: one of them is mine
        .first()
    )
    if assignment is None:
        raise Http404
    return redirect("banks:feedback", pk=assignment.pk)


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
        "decision_overdue": assignments.filter(decision_overdue_q(today)).order_by(
            "decision_due_on", "pk"
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
        "decision_overdue": _("Credit decision overdue"),
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
    if kind in ("overdue", "decision_overdue"):
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
