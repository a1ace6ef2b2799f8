"""Screens of 申报清单 → 五项标准 → 推荐清单 (task force; read-only for other region users)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.locking import EditConflict, conflict_lines
from core.views import paginate
from core.writes import scoped_save
from enterprises.choices import RegionLevel
from enterprises.models import Enterprise, Region

from .choices import ApplicationStatus, FiveStandard
from .models import Application, Recommendation, RecommendationBatch, RecommendationRules
from .services.recommendations import (
    COUNTY_LENGTH,
    add_application,
    approve_application,
    awaiting_push,
    check_application,
    facts_for,
    push_recommendations,
)


def _region_user(request, action="view"):
    """The pages are the task force's work (region scopes); bank officers see their pushed
    recommendations in their workspace instead."""
    scope = request.user.scope
    if not scope.allows(action) or (scope.bank_codes is not None and not scope.everything):
        raise PermissionDenied(_("The application list is for task-force staff."))


def _may_change(user):
    return user.scope.allows("change") and user.scope.bank_codes is None


def _townships(user):
    regions = Region.objects.filter(level=RegionLevel.TOWNSHIP)
    prefix = user.scope.region_prefix
    if prefix:
        regions = regions.filter(code__startswith=prefix)
    return regions.order_by("code")


def _conflict_text(error):
    """The refusal and what changed, one line each (the form shows each error on its own)."""
    return [str(error), *conflict_lines(error.changes)]


# --- Application list -----------------------------------------------------------------------


class AddApplicationForm(forms.Form):
    uscc = forms.CharField(
        label=gettext_lazy("Unified social credit code"),
        max_length=18,
        min_length=18,
        error_messages={
            "required": gettext_lazy("Enter the enterprise's unified social credit code."),
            "min_length": gettext_lazy("A unified social credit code has 18 characters."),
        },
    )
    need_amount = forms.DecimalField(
        label=gettext_lazy("Amount needed (10k yuan)"),
        required=False,
        min_value=0.01,
        max_digits=20,
        decimal_places=6,
    )


@login_required
def application_list(request):
    _region_user(request)
    user = request.user
    queryset = Application.objects.restrict(user).select_related(
        "enterprise__region", "checked_by", "approved_by"
    )
    status = request.GET.get("status", "")
    if status in ApplicationStatus.values:
        queryset = queryset.filter(status=status)
    township = request.GET.get("township", "")
    if township:
        queryset = queryset.filter(enterprise__region__code__startswith=township)
    search = request.GET.get("q", "").strip()
    if search:
        queryset = queryset.filter(
            Q(enterprise__name__icontains=search) | Q(enterprise__uscc__istartswith=search)
        )
    counts = dict(
        Application.objects.restrict(user)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    form = AddApplicationForm(request.POST or None)
    if request.method == "POST":
        if not _may_change(user):
            raise PermissionDenied(_("You may not add enterprises to the application list."))
        if form.is_valid():
            enterprise = (
                Enterprise.objects.restrict(user, "change")
                .filter(uscc=form.cleaned_data["uscc"].upper())
                .first()
            )
            if enterprise is None:
                form.add_error("uscc", _("No enterprise with this code in your region."))
            else:
                try:
                    entry = add_application(user, enterprise, form.cleaned_data["need_amount"])
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(
                        request,
                        _("%(name)s is on the application list.") % {"name": enterprise.name},
                    )
                    return redirect("visits:application_check", entry.pk)
    page = paginate(request, queryset.order_by("-created_at", "-pk"))
    context = {
        "page": page,
        "statuses": ApplicationStatus.choices,
        "status": status,
        "townships": _townships(user),
        "township": township,
        "q": search,
        "counts": [
            (value, label, counts.get(value, 0)) for value, label in ApplicationStatus.choices
        ],
        "form": form,
        "may_change": _may_change(user),
    }
    return render(request, "visits/applications/list.html", context)


# --- Five-standards check ------------------------------------------------------------------


class CheckForm(forms.Form):
    """One big checkbox per standard, the notes, and the version read (optimistic locking)."""

    note = forms.CharField(
        label=gettext_lazy("Notes (the reason, when a standard is not met)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, label in FiveStandard.choices:
            self.fields[code] = forms.BooleanField(label=label, required=False)


def _application(request, pk, action="view"):
    return get_object_or_404(
        Application.objects.restrict(request.user, action).select_related(
            "enterprise__region", "visit", "checked_by", "approved_by"
        ),
        pk=pk,
    )


def _standards_context(application):
    standards = facts_for([application])[application.pk]
    return standards, getattr(application, "lead_bank", None)


@login_required
def application_check(request, pk):
    _region_user(request)
    application = _application(request, pk)
    may_change = _may_change(request.user)
    initial = {"version": application.version, "note": application.check_note}
    initial.update({code: bool(application.checks.get(code)) for code in FiveStandard.values})
    form = CheckForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied(_("You may not check applications."))
        application = _application(request, pk, "change")
        if form.is_valid():
            checks = {code: form.cleaned_data[code] for code in FiveStandard.values}
            try:
                check_application(
                    request.user,
                    application,
                    checks,
                    form.cleaned_data["note"],
                    form.cleaned_data["version"],
                )
            except EditConflict as error:
                form.add_error(None, _conflict_text(error))
                application.refresh_from_db()
            except ValidationError as error:
                form.add_error(None, error)
                application.refresh_from_db()
            else:
                if application.status == ApplicationStatus.CHECKED:
                    messages.success(
                        request,
                        _("All five standards met: a second task-force member approves it now."),
                    )
                else:
                    messages.warning(request, _("Recorded as not meeting the standards."))
                return redirect("visits:application_list")
    standards, lead = _standards_context(application)
    rows = [(s, form[s.code]) for s in standards]
    context = {
        "application": application,
        "rows": rows,
        "form": form,
        "lead_bank": lead,
        "may_check": may_change and application.status == ApplicationStatus.PENDING,
        "may_approve": may_change and application.status == ApplicationStatus.CHECKED,
    }
    return render(request, "visits/applications/check.html", context)


class ApproveForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


@login_required
def application_approve(request, pk):
    _region_user(request)
    application = _application(request, pk)
    may_change = _may_change(request.user)
    form = ApproveForm(request.POST or None, initial={"version": application.version})
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied(_("You may not approve applications."))
        application = _application(request, pk, "change")
        if form.is_valid():
            try:
                recommendation = approve_application(
                    request.user, application, form.cleaned_data["version"]
                )
            except EditConflict as error:
                form.add_error(None, _conflict_text(error))
                application.refresh_from_db()
            except ValidationError as error:
                form.add_error(None, error)
                application.refresh_from_db()
            else:
                messages.success(
                    request,
                    _("Approved: %(name)s joins the recommendation list of %(bank)s.")
                    % {"name": application.enterprise.name, "bank": recommendation.bank.name},
                )
                return redirect("visits:recommendation_list")
    standards, lead = _standards_context(application)
    context = {
        "application": application,
        "standards": [(s, bool(application.checks.get(s.code))) for s in standards],
        "form": form,
        "lead_bank": lead,
        "may_approve": may_change and application.status == ApplicationStatus.CHECKED,
        "own_check": application.checked_by_id == request.user.pk,
    }
    return render(request, "visits/applications/approve.html", context)


# --- Recommendation list and push -------------------------------------------------------------


@login_required
def recommendation_list(request):
    _region_user(request)
    user = request.user
    queryset = Recommendation.objects.restrict(user).select_related(
        "enterprise__region", "bank", "push"
    )
    state = request.GET.get("state", "")
    if state == "waiting":
        queryset = queryset.filter(recommended_on__isnull=True)
    elif state == "pushed":
        queryset = queryset.filter(recommended_on__isnull=False)
    bank = request.GET.get("bank", "")
    if bank:
        queryset = queryset.filter(bank_id=bank)
    waiting = (
        awaiting_push(user)
        .values("bank_id", "bank__name")
        .annotate(n=Count("pk"))
        .order_by("bank_id")
        if _may_change(user)
        else []
    )
    page = paginate(request, queryset.order_by("-recommended_on", "-pk"))
    context = {
        "page": page,
        "state": state,
        "bank": bank,
        "waiting": waiting,
        "may_change": _may_change(user),
    }
    return render(request, "visits/recommendations/list.html", context)


@login_required
@require_POST
def recommendation_push(request):
    """Step 1 (``confirm`` absent): show what would be pushed, per bank; step 2: push."""
    _region_user(request, "change")
    user = request.user
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    chosen = awaiting_push(user).filter(pk__in=ids).select_related("enterprise", "bank")
    if not ids or not chosen.exists():
        messages.error(
            request, _("Choose at least one approved recommendation that is not pushed yet.")
        )
        return redirect("visits:recommendation_list")
    if request.POST.get("confirm") != "1":
        groups = {}
        for rec in chosen.order_by("bank_id", "enterprise__name"):
            groups.setdefault(rec.bank, []).append(rec)
        return render(
            request,
            "visits/recommendations/push_confirm.html",
            {"groups": groups.items(), "ids": [r.pk for r in chosen]},
        )
    try:
        batches = push_recommendations(user, ids)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("visits:recommendation_list")
    messages.success(
        request,
        _("Pushed in %(count)s batch(es): %(banks)s.")
        % {"count": len(batches), "banks": "、".join(b.bank.name for b in batches)},
    )
    return redirect("visits:batch_list")


@login_required
def batch_list(request):
    _region_user(request)
    batches = (
        RecommendationBatch.objects.restrict(request.user)
        .select_related("bank", "region", "pushed_by")
        .annotate(n=Count("recommendations"))
        .order_by("-pushed_on", "-id")  # Meta.ordering does not apply to a grouped query
    )
    return render(
        request, "visits/recommendations/batches.html", {"page": paginate(request, batches)}
    )


@login_required
def batch_detail(request, pk):
    _region_user(request)
    batch = get_object_or_404(
        RecommendationBatch.objects.restrict(request.user).select_related("bank", "region"), pk=pk
    )
    rows = (
        Recommendation.objects.restrict(request.user)
        .filter(push=batch)
        .select_related("enterprise__region")
    )
    return render(
        request,
        "visits/recommendations/batch_detail.html",
        {"batch": batch, "page": paginate(request, rows.order_by("enterprise__name", "pk"))},
    )


# --- Per-county rules ---------------------------------------------------------------------------


class RulesForm(forms.Form):
    min_months_established = forms.IntegerField(
        label=gettext_lazy("Months established at least (合规持续经营)"),
        min_value=0,
        max_value=600,
        error_messages={"required": gettext_lazy("Enter a number of months.")},
    )


@login_required
def rules_edit(request):
    _region_user(request, "change")
    user = request.user
    prefix = user.scope.region_prefix or ""
    counties = Region.objects.filter(level=RegionLevel.COUNTY)
    if prefix:
        counties = counties.filter(code__startswith=prefix[:COUNTY_LENGTH])
    counties = list(counties.order_by("code"))
    if not counties:
        raise PermissionDenied(_("Rules are set per county: your account has no county."))
    code = request.POST.get("county") or request.GET.get("county") or counties[0].code
    county = next((c for c in counties if c.code == code), counties[0])
    rules = RecommendationRules.objects.filter(region=county).first() or RecommendationRules(
        region=county
    )
    form = RulesForm(
        request.POST or None, initial={"min_months_established": rules.min_months_established}
    )
    if request.method == "POST" and form.is_valid():
        rules.min_months_established = form.cleaned_data["min_months_established"]
        try:
            scoped_save(user, "change", rules)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The rules were saved."))
            return redirect(f"{request.path}?county={county.code}")
    return render(
        request,
        "visits/applications/rules.html",
        {"form": form, "counties": counties, "county": county},
    )
