"""The visits section of an enterprise's page (so enterprises/ need not import visits)."""

from django import template

from ..models import Visit
from ..services.visits import visitable_enterprises

register = template.Library()
PANEL_VISITS = 5


@register.inclusion_tag("visits/_enterprise_panel.html", takes_context=True)
def visit_panel(context, enterprise):
    """The enterprise's latest visits the user may read, and the "record a visit" button when
    the user may visit it (a bank officer: an enterprise handed to their branch)."""
    user = context["request"].user
    visits = list(
        Visit.objects.restrict(user)
        .filter(enterprise=enterprise)
        .order_by("-visited_on", "-id")[: PANEL_VISITS + 1]
    )
    can_visit = (
        user.scope.allows("visit") and visitable_enterprises(user).filter(pk=enterprise.pk).exists()
    )
    return {
        "enterprise": enterprise,
        "visits": visits[:PANEL_VISITS],
        "more": len(visits) > PANEL_VISITS,
        "can_visit": can_visit,
    }
