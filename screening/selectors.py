"""Read-side queries other apps use (dashboards, enterprise pages)."""

from django.db.models import Min, OuterRef, Subquery

from enterprises.models import Enterprise

from .choices import RunStatus
from .models import ListMembership, ScreeningRun


def current_runs():
    """The current succeeded run of every region."""
    return ScreeningRun.objects.filter(is_current=True, status=RunStatus.SUCCEEDED)


def current_memberships(list_type):
    """Memberships of ``list_type`` in the current succeeded run of each region.

    Chain ``.restrict(user)`` for scoping, e.g. active entities a user may see:
    ``current_memberships("active").restrict(user)``.
    """
    return ListMembership.objects.filter(
        list_type=list_type, run__is_current=True, run__status=RunStatus.SUCCEEDED
    )


def with_own_first_loan(queryset, user):
    """Memberships, exclusions or changes annotated, for a user limited to bank branches, with
    the first dates of the loans and credit of those branches (``own_loan_on``,
    ``own_credit_on``); see ``reasons.own_reasons``. Other users read every bank's rows of
    their enterprises: the queryset is returned as it is.
    """
    if not user.is_authenticated:
        return queryset  # restrict() gives such a user nothing anyway
    scope = user.scope
    if scope.everything or scope.bank_codes is None:
        return queryset
    codes = list(scope.bank_codes)

    def first(relation, field):
        # Through the enterprise's reverse relations (screening sits below loans).
        rows = Enterprise.objects.filter(
            pk=OuterRef("enterprise_id"), **{f"{relation}__bank_id__in": codes}
        )
        return Subquery(rows.values("pk").annotate(d=Min(f"{relation}__{field}")).values("d"))

    return queryset.annotate(
        own_loan_on=first("loans", "disbursed_on"),
        own_credit_on=first("credit_snapshots", "first_loan_date"),
    )
