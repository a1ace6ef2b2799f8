"""Receivers of the recommendation workflow: a visit that finds a need puts the enterprise on
the application list (申报清单). Connected from VisitsConfig.ready."""

from django.dispatch import receiver

from .signals import visit_recorded, visit_withdrawn


@receiver(visit_recorded, dispatch_uid="visits.recommendations.note_visit")
def visit_puts_need_on_application_list(sender, visit, user=None, created=False, **kwargs):
    # Inside the visit's save transaction: the entry and the visit commit (or fail) together.
    from .services.recommendations import note_visit

    note_visit(visit)


@receiver(visit_withdrawn, dispatch_uid="visits.recommendations.forget_visit")
def withdrawn_visit_leaves_the_application_list(sender, visit, user=None, **kwargs):
    from .services.recommendations import forget_visit

    forget_visit(visit)


# --- The bank officer's workspace: what the task force pushed to the branch --------------------

WORKSPACE_ROWS = 20


def pushed_to_my_bank(request):
    """The workspace panel: recommendations pushed to the officer's branches (latest first)."""
    from .models import Recommendation

    if request.user.scope.bank_codes is None:
        return None
    pushed = Recommendation.objects.restrict(request.user).filter(recommended_on__isnull=False)
    rows = list(
        pushed.select_related("enterprise", "bank").order_by("-recommended_on", "-pk")[
            :WORKSPACE_ROWS
        ]
    )
    return {"rows": rows, "total": pushed.count() if len(rows) == WORKSPACE_ROWS else len(rows)}


def _register_workspace_panel():
    from banks.workspace import register_workspace_panel

    register_workspace_panel("visits/recommendations/_workspace_panel.html", pushed_to_my_bank)


_register_workspace_panel()
