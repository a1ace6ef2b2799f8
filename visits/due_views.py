"""The due-visits list (待走访) and the second-round campaigns (二次走访) of the staff."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.views import paginate
from core.writes import OutOfScope
from enterprises.models import Region

from .item_forms import CampaignForm
from .services import followups as svc


def visit_form_url():
    """The visit form's address (visits:new, another page of this app), by path until it is
    routed."""
    try:
        return reverse("visits:new")
    except NoReverseMatch:
        return "/visits/new/"


@login_required
def due_list(request):
    """A worker's due visits, soonest first, overdue ones marked; each opens the visit form."""
    user = request.user
    if not user.scope.allows("visit"):
        raise PermissionDenied(_("The due-visits list is for those who visit enterprises."))
    today = timezone.localdate()
    queryset = svc.due_list(user)
    overdue_only = bool(request.GET.get("overdue"))
    if overdue_only:
        queryset = queryset.filter(due_on__lt=today)
    search = request.GET.get("q", "").strip()
    if search:
        queryset = queryset.filter(
            Q(enterprise__name__icontains=search) | Q(enterprise__uscc__istartswith=search)
        )
    page = paginate(request, queryset)
    page.object_list = svc.mark_overdue(page.object_list, today)
    context = {
        "page": page,
        "today": today,
        "q": search,
        "overdue": overdue_only,
        "visit_url": visit_form_url(),
        "may_launch": svc.campaign_regions(user).exists(),
    }
    return render(request, "visits/due/list.html", context)


def _staff(request):
    if not svc.campaign_regions(request.user).exists():
        raise PermissionDenied(_("Campaigns are launched by task-force staff."))


@login_required
def campaign_list(request):
    _staff(request)
    page = paginate(request, svc.campaign_list(request.user))
    codes = {c.criteria.get("township") for c in page.object_list if c.criteria.get("township")}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    for campaign in page.object_list:
        campaign.criteria_text = svc.describe_criteria(campaign.criteria, names)
    return render(request, "visits/due/campaigns.html", {"page": page})


@login_required
def campaign_new(request):
    _staff(request)
    form = CampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign, job = svc.launch_campaign(
                request.user, data["name"], data["region"], form.criteria(), data["due_on"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        except OutOfScope as exc:
            form.add_error("region", str(exc))
        else:
            if job is not None:
                return redirect("core:job_detail", pk=job.pk)
            added = campaign.due_visits.count()
            messages.success(
                request,
                _("Campaign “{name}” launched: {count} due visits added.").format(
                    name=campaign.name, count=added
                ),
            )
            return redirect("visits:campaigns")
    return render(request, "visits/due/campaign_form.html", {"form": form})
