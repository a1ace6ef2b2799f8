"""The screening part of the enterprise timeline: its entries into and exits from the lists."""

from functools import partial

from django.utils.translation import gettext as _

from enterprises.timeline import Event, join, link, register_source

from .choices import ChangeKind, ListType, RunStatus
from .models import ListChange, ListMembership
from .reasons import describe, own_reasons
from .selectors import with_own_first_loan


def _when(run):
    return run.finished_at or run.started_at or run.created_at


def change_events(enterprise, user, limit):
    """Each run's diff for this enterprise: entered or left a list, and why (one query). A bank
    officer reads the reasons without other banks' first-loan dates."""
    changes = (
        with_own_first_loan(ListChange.objects.restrict(user), user)
        .filter(enterprise=enterprise, run__status=RunStatus.SUCCEEDED)
        .select_related("run")
        .order_by("-run__created_at", "-run_id", "list_type")[:limit]
    )
    kind = _("List screening")
    return [
        Event(
            _when(row.run),
            kind,
            icon="bi-box-arrow-in-right"
            if row.change == ChangeKind.ENTERED
            else "bi-box-arrow-right",
            render=partial(_change, row),
        )
        for row in changes
    ]


def _list_label(code):
    return ListType(code).label if code in ListType.values else ""


def _change(row):
    if row.change == ChangeKind.ENTERED:
        title = _("Entered the list: {list}")
    else:
        title = _("Left the list: {list}")
    return {
        "title": title.format(list=_list_label(row.list_type)),
        "detail": join(*describe(own_reasons(row))),
        "url": link("screening:run_detail", row.run_id),
    }


def first_screening_events(enterprise, user, limit):
    """The lists the enterprise was put on by its county's first screening (a first run has no
    diff to show it): one query, through the unique (run, list_type, enterprise) index."""
    members = (
        with_own_first_loan(ListMembership.objects.restrict(user), user)
        .filter(
            enterprise=enterprise,
            list_type__in=ListType.values,
            run__region_id=enterprise.region_id[:6],
            run__previous__isnull=True,
            run__status=RunStatus.SUCCEEDED,
        )
        .select_related("run")
        .order_by("-run__created_at", "list_type")[:limit]
    )
    kind = _("List screening")
    return [
        Event(_when(row.run), kind, icon="bi-box-arrow-in-right", render=partial(_first, row))
        for row in members
    ]


def _first(row):
    return {
        "title": _("Put on the list by the first screening: {list}").format(
            list=_list_label(row.list_type)
        ),
        "detail": join(*describe(own_reasons(row))),
        "url": link("screening:run_detail", row.run_id),
    }


def register_sources():
    register_source("list_changes", change_events)
    register_source("first_screening", first_screening_events)
