"""Visit pages (phone-first): record a visit, read it, edit it, my recent visits, and the
enterprise search of the form. Writes go through visits.services.visits only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.choices import Action, Role
from core.locking import EditConflict, conflict_lines
from core.views import paginate
from core.writes import OutOfScope

from .choices import VisitRound
from .forms import EditVisitForm, NewVisitForm
from .models import Visit
from .services.visits import (
    EDITABLE_FIELDS,
    conflict_rows,
    editable_visits,
    record_visit,
    shown_value,
    team_defaults,
    update_visit,
    visitable_enterprises,
    withdraw_visit,
)

SEARCH_LIMIT = 10


def _require_visit(request):
    if not request.user.scope.allows(Action.VISIT):
        raise PermissionDenied(_("You may not record visits."))


def _wants_json(request):
    # The offline draft (static/visits/draft.js) posts with fetch and reads a JSON answer.
    return request.headers.get("X-Visit-Draft") == "1"


def _rejected(request, form, template, context):
    if _wants_json(request):
        errors = {f: [str(m) for m in msgs] for f, msgs in form.errors.items()}
        return JsonResponse({"errors": errors}, status=400)
    return render(request, template, {"form": form, **context})


def _add_service_errors(form, exc):
    for field, msgs in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, msgs)


@login_required
def visit_new(request):
    _require_visit(request)
    user = request.user
    enterprise = None
    if request.method == "POST":
        form = NewVisitForm(request.POST, user=user)
        if form.is_valid():
            data = {name: form.cleaned_data.get(name) for name in EDITABLE_FIELDS}
            data["enterprise"] = form.cleaned_data["enterprise"]
            try:
                visit, created = record_visit(user, data, form.cleaned_data.get("client_key"))
            except ValidationError as exc:
                _add_service_errors(form, exc)
            except OutOfScope as exc:
                form.add_error("enterprise", exc.args[0])
            else:
                url = reverse("visits:detail", args=[visit.pk])
                if _wants_json(request):
                    return JsonResponse(
                        {"url": url, "created": created}, status=201 if created else 200
                    )
                messages.success(
                    request,
                    _("Visit recorded.") if created else _("This visit was already recorded."),
                )
                return redirect(url)
        return _rejected(request, form, "visits/visit_form.html", {"is_new": True})
    initial = {}
    uscc = request.GET.get("enterprise", "").strip().upper()
    if uscc:
        enterprise = visitable_enterprises(user).filter(uscc=uscc).first()
        if enterprise is None:
            raise Http404(_("No enterprise you may visit has this credit code."))
        team = team_defaults(user, enterprise)
        initial = {
            "enterprise": enterprise.uscc,
            "enterprise_q": f"{enterprise.name} {enterprise.uscc}",
            "township_worker_name": team["township_worker_name"],
            "bank_officer_name": team["bank_officer_name"],
        }
    else:
        initial = _own_name(user)
    if request.GET.get("round") in VisitRound.values:  # from the due list: the round that is due
        initial["round"] = request.GET["round"]
    form = NewVisitForm(initial=initial, user=user)
    return render(request, "visits/visit_form.html", {"form": form, "is_new": True})


def _own_name(user):
    """Without an enterprise yet, the team shows at least the user on their own side."""
    if user.role == Role.BANK_OFFICER:
        return {"bank_officer_name": user.display_name}
    if user.role == Role.TOWNSHIP_WORKER:
        return {"township_worker_name": user.display_name}
    return {}


@login_required
def enterprise_search(request):
    """htmx: the enterprises I may visit whose name or credit code contains ``q``."""
    _require_visit(request)
    q = request.GET.get("enterprise_q", request.GET.get("q", "")).strip()
    results = []
    if len(q) >= 2:
        results = (
            visitable_enterprises(request.user)
            .filter(Q(name__icontains=q) | Q(uscc__istartswith=q.upper()))
            .select_related("region")
            .order_by("name")[:SEARCH_LIMIT]
        )
    return render(request, "visits/_enterprise_results.html", {"results": results, "q": q})


def _get_visit(request, pk):
    """A visit the user may read (restrict(user, "view")), else 404."""
    return get_object_or_404(
        Visit.objects.restrict(request.user).select_related(
            "enterprise", "bank", "township_worker", "bank_officer", "created_by"
        ),
        pk=pk,
    )


@login_required
def visit_detail(request, pk):
    visit = _get_visit(request, pk)
    can_edit = editable_visits(request.user).filter(pk=visit.pk).exists()
    context = {
        "visit": visit,
        "can_edit": can_edit,
        "guarantees": shown_value(visit, "acceptable_guarantees"),
        "problems": shown_value(visit, "problems"),
    }
    return render(request, "visits/visit_detail.html", context)


def _get_editable(request, pk):
    _require_visit(request)
    visit = get_object_or_404(
        editable_visits(request.user).select_related(
            "enterprise", "township_worker", "bank_officer"
        ),
        pk=pk,
    )
    if visit.status != "completed":
        raise Http404(_("This visit was withdrawn."))
    return visit


def _edit_initial(visit):
    initial = {name: getattr(visit, name) for name in EDITABLE_FIELDS}
    for name in ("has_need", "operating_normally"):
        value = initial[name]
        initial[name] = "" if value is None else ("true" if value else "false")
    initial["version"] = visit.version
    return initial


@login_required
def visit_edit(request, pk):
    visit = _get_editable(request, pk)
    conflict = None
    if request.method == "POST":
        form = EditVisitForm(request.POST, user=request.user)
        if form.is_valid():
            data = {name: form.cleaned_data.get(name) for name in EDITABLE_FIELDS}
            try:
                update_visit(request.user, visit, data, form.cleaned_data["version"])
            except EditConflict as exc:
                visit.refresh_from_db()
                conflict = conflict_lines(conflict_rows(exc.current, _unsaved(exc.current, data)))
                # The user's input stays; saving again on purpose applies it over theirs.
                form = EditVisitForm(
                    _keep_lists(request.POST, exc.current.version), user=request.user
                )
                form.is_valid()
            except ValidationError as exc:
                _add_service_errors(form, exc)
            else:
                if _wants_json(request):
                    return JsonResponse({"url": reverse("visits:detail", args=[visit.pk])})
                messages.success(request, _("Visit saved."))
                return redirect("visits:detail", pk=visit.pk)
        if conflict is not None and _wants_json(request):
            return JsonResponse({"conflict": True}, status=409)
        context = {"is_new": False, "visit": visit, "conflict": conflict}
        return _rejected(request, form, "visits/visit_form.html", context)
    form = EditVisitForm(initial=_edit_initial(visit), user=request.user)
    return render(
        request, "visits/visit_form.html", {"form": form, "is_new": False, "visit": visit}
    )


def _keep_lists(post, version):
    """The posted fields (lists of checkboxes included), at the stored version."""
    data = post.copy()
    data["version"] = str(version)
    return data


def _unsaved(current, data):
    """The refused edit as a visit object, to compare with the stored one."""
    mine = Visit(**{f.attname: getattr(current, f.attname) for f in Visit._meta.concrete_fields})
    for name, value in data.items():
        if name.endswith("_name"):
            value = value or getattr(current, name)
        setattr(mine, name, value)
    return mine


@login_required
@require_POST
def visit_withdraw(request, pk):
    visit = _get_editable(request, pk)
    try:
        withdraw_visit(request.user, visit, request.POST.get("version"))
    except EditConflict:
        messages.error(
            request,
            _(
                "Someone else changed this visit after you opened it; read it again before withdrawing it."
            ),
        )
    else:
        messages.success(request, _("Visit withdrawn."))
    return redirect("visits:detail", pk=visit.pk)


@login_required
def my_visits(request):
    """The visits I recorded or took part in, newest first."""
    _require_visit(request)
    user = request.user
    queryset = (
        Visit.objects.restrict(user)
        .filter(Q(created_by=user) | Q(township_worker=user) | Q(bank_officer=user))
        .select_related("enterprise")
        .order_by("-visited_on", "-id")
    )
    return render(request, "visits/my_visits.html", {"page": paginate(request, queryset, 30)})
