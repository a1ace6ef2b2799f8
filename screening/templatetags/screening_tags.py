"""The "why (not) on each list" panel on an enterprise's page."""

from functools import cache

from django import template
from django.db.models import Min
from django.utils import timezone

from ..choices import ListType, Reason
from ..models import ListExclusion, ListMembership, ScreeningRun
from ..reasons import hide_other_banks_dates, with_hints

register = template.Library()


def first_loan_on(enterprise, as_of, user=None):
    """The enterprise's first loan date up to ``as_of``: from every bank, or from the rows
    ``user`` may read (their branches' loans and credit) when a user is given."""
    loans, credit = enterprise.loans.all(), enterprise.credit_snapshots.all()
    if user is not None:
        loans, credit = loans.restrict(user), credit.restrict(user)
    dates = [
        loans.filter(disbursed_on__lte=as_of).aggregate(d=Min("disbursed_on"))["d"],
        credit.filter(as_of__lte=as_of).aggregate(d=Min("first_loan_date"))["d"],
    ]
    return min(filter(None, dates), default=None)


def panel_rows(enterprise, user):
    """[(list label, on the list?, [(reason, hint)])] from the current run of its county.

    The reasons come from every bank's data (the lists are the county's), but a first-loan
    date is shown only when the user's own readable rows show it: a bank officer reads that
    the first loan was before the period, not the date another bank lent on.
    """
    run = ScreeningRun.objects.filter(
        region_id=enterprise.region_id[:6], is_current=True, status="succeeded"
    ).first()
    if run is None:
        return run, []
    # Every list type spelled out: the unique (run, list_type, enterprise) index then finds
    # the rows directly (there is no index on enterprise alone).
    mine = {"run": run, "enterprise": enterprise, "list_type__in": ListType.values}
    members = {m.list_type: m for m in ListMembership.objects.filter(**mine)}
    excluded = {x.list_type: x for x in ListExclusion.objects.filter(**mine)}
    active = ListType.ACTIVE in members
    not_active = [{"code": Reason.NOT_ACTIVE}] + (
        excluded[ListType.ACTIVE].reasons if ListType.ACTIVE in excluded else []
    )
    own_first = cache(lambda: first_loan_on(enterprise, run.as_of, user))

    def shown(reasons):
        return with_hints(hide_other_banks_dates(reasons, own_first))

    rows = []
    for list_type, label in ListType.choices:
        if list_type in members:
            rows.append((label, True, shown(members[list_type].reasons)))
            continue
        if list_type in excluded:
            reasons = excluded[list_type].reasons
        elif list_type == ListType.FIRST_LOAN:
            first = first_loan_on(enterprise, run.as_of or timezone.localdate())
            if first is None:
                reasons = [{"code": Reason.NO_LOAN_RECORD}]
            elif first < run.period_start:
                reasons = [{"code": Reason.FIRST_LOAN_EARLIER, "on": first.isoformat()}]
            else:
                reasons = [{"code": Reason.FIRST_LOAN_LATER, "on": first.isoformat()}]
        elif list_type == ListType.RESERVE and active and ListType.NO_LOAN in members:
            reasons = [{"code": Reason.NO_NEED_SOURCE}]
        elif list_type == ListType.RESERVE and active:
            reasons = [{"code": Reason.HAS_LOAN}]
        elif not active:
            reasons = not_active
        elif list_type == ListType.NO_LOAN:
            reasons = [{"code": Reason.HAS_LOAN}]
        elif list_type == ListType.HAS_LOAN:
            reasons = [{"code": Reason.NO_LOAN_RECORD}]
        else:
            reasons = []
        rows.append((label, False, shown(reasons)))
    return run, rows


@register.inclusion_tag("screening/_enterprise_panel.html")
def screening_panel(enterprise, user):
    run, rows = panel_rows(enterprise, user)
    return {"run": run, "rows": rows}
