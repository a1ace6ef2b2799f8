"""The lead/backup bank panel on an enterprise's page (so enterprises/ need not import banks)."""

from django import template

from ..choices import AssignmentRole
from ..models import BankAssignment, UnplacedEnterprise
from ..services.allocation import explain

register = template.Library()


@register.inclusion_tag("banks/_assignment_panel.html", takes_context=True)
def assignment_panel(context, enterprise):
    """The enterprise's assignments the user may see (a bank officer: its own bank's rows),
    each with its explanation in the user's language."""
    user = context["request"].user
    rows = sorted(
        BankAssignment.objects.restrict(user)
        .filter(enterprise=enterprise)
        .select_related("bank", "township_worker"),
        key=lambda a: a.role != AssignmentRole.LEAD,
    )
    can_change = set(
        BankAssignment.objects.restrict(user, "allocate")
        .filter(enterprise=enterprise)
        .values_list("pk", flat=True)
    )
    for row in rows:
        row.why = explain(row)
        row.can_change = row.pk in can_change
    unplaced = None
    if not rows:
        unplaced = (
            UnplacedEnterprise.objects.restrict(user)
            .filter(enterprise=enterprise)
            .order_by("-run__created_at", "-pk")
            .first()
        )
    return {"assignments": rows, "unplaced": unplaced}
