"""The API's permission rule: the caller's scope must allow the action a request needs."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission


def required_action(request, view):
    """``view`` for reads; for writes the view's ``write_action`` (default ``change``)."""
    if request.method in SAFE_METHODS:
        return "view"
    return getattr(view, "write_action", "change")


class ScopeAllowsAction(BasePermission):
    """Answers 403 when the user's role or token lacks the action (rows outside the scope
    are filtered by ``restrict`` and answer 404)."""

    message = _("You do not have the right to do this.")

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user and user.is_authenticated and user.scope.allows(required_action(request, view))
        )
