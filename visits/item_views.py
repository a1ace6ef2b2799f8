"""The coordination-item pages (问题协调): open items by age, my items, the city list, one item.

Each list reads a fixed number of queries whatever its length (rows with their enterprise,
township and bank in one query, the count, the township filter's choices).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.locking import EditConflict, conflict_lines
from core.views import paginate
from core.writes import OutOfScope

from .item_forms import EscalateForm, ItemFilterForm, ItemForm
from .services import items as svc


def _with_age(rows, today):
    rows = list(rows)
    for item in rows:
        item.age_days = (today - timezone.localtime(item.created_at).date()).days
        item.overdue = item.is_open and item.due_on is not None and item.due_on < today
    return rows


def _list(request, queryset, template_title, lead, *, filters=True):
    """One item list page: the filters, a page of rows (htmx asks for the table alone)."""
    form = ItemFilterForm(request.GET or None, user=request.user)
    if filters:
        queryset = form.apply(queryset)
    page = paginate(request, queryset)
    page.object_list = _with_age(page.object_list, timezone.localdate())
    context = {
        "page": page,
        "form": form,
        "filters": filters,
        "title": template_title,
        "lead": lead,
        "is_city_user": svc.is_city_user(request.user),
    }
    if request.htmx and request.htmx.target == "items-table":
        return render(request, "visits/items/_table.html", context)
    return render(request, "visits/items/list.html", context)


@login_required
def item_list(request):
    """Staff: every item of the region, oldest first (by default the unresolved ones)."""
    if not request.user.scope.allows("view"):
        raise PermissionDenied
    queryset = svc.item_list(request.user).order_by("created_at", "pk")
    return _list(
        request,
        queryset,
        _("Coordination items"),
        _("Problems found on visits, oldest first. The owner must act before the due date."),
    )


@login_required
def my_items(request):
    return _list(
        request,
        svc.my_items(request.user),
        _("My items"),
        _("Items your desk owns: your branch's, your county's departments' or your township's."),
    )


@login_required
def escalated_items(request):
    """City staff: the items counties escalated, oldest escalation first."""
    if not svc.is_city_user(request.user):
        raise PermissionDenied(_("The city list is for city-level staff."))
    return _list(
        request,
        svc.escalated_items(request.user),
        _("Escalated to the city"),
        _("Items a county could not solve and handed to city level."),
        filters=False,
    )


def _get_item(request, pk):
    return get_object_or_404(svc.item_list(request.user), pk=pk)


def _conflict_message(conflict):
    return [
        str(conflict),
        *conflict_lines(conflict.changes),
        _("Your input is kept below: check it and save again to keep it."),
    ]


@login_required
def item_detail(request, pk):
    """One item: read it, edit it (the owner, staff), escalate it."""
    item = _get_item(request, pk)
    user = request.user
    may_edit = svc.may_edit(user, item)
    may_reassign = may_edit and svc.may_reassign(user)
    conflict = None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(_("You may not change this coordination item."))
        form = ItemForm(request.POST, may_reassign=may_reassign)
        if form.is_valid():
            try:
                svc.update_item(user, item, form.data_for_service(), form.cleaned_data["version"])
            except EditConflict as exc:
                conflict = _conflict_message(exc)
                # Keep what was typed; the next save is made against the stored version.
                data = request.POST.copy()
                data["version"] = exc.current.version
                form = ItemForm(data, may_reassign=may_reassign)
                form.is_valid()
                item = exc.current
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                item = _get_item(request, pk)  # the service changed the object in memory
            except OutOfScope as exc:
                form.add_error(None, str(exc))
                item = _get_item(request, pk)
            else:
                messages.success(request, _("Saved."))
                return redirect("visits:item", pk=item.pk)
    else:
        form = ItemForm(
            initial={
                "status": item.status,
                "description": item.description,
                "resolution": item.resolution,
                "due_on": item.due_on,
                "owner_department": item.owner_department,
                "owner_bank": item.owner_bank_id,
                "version": item.version,
            },
            may_reassign=may_reassign,
        )
    context = {
        "item": _with_age([item], timezone.localdate())[0],
        "form": form,
        "may_edit": may_edit,
        "conflict": conflict,
        "escalate_form": EscalateForm(initial={"version": item.version}),
        "may_escalate": may_edit and item.is_open and item.level != "city",
    }
    return render(request, "visits/items/detail.html", context, status=409 if conflict else 200)


@login_required
@require_POST
def item_escalate(request, pk):
    item = _get_item(request, pk)
    if not svc.may_edit(request.user, item):
        raise Http404
    form = EscalateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the county cannot solve it."))
        return redirect("visits:item", pk=item.pk)
    try:
        svc.escalate(
            request.user, item, form.cleaned_data["escalation_reason"], form.cleaned_data["version"]
        )
    except EditConflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.success(request, _("Escalated to the city level."))
    return redirect("visits:item", pk=item.pk)
