"""The API's permission rule: the caller's scope must allow the action a request needs."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission


def required_action(request, view):
    """The view's ``read_action`` (default ``view``) to read, its ``write_action`` (default
    ``change``) to write: the same attributes the scoped viewsets restrict their rows by."""
    if request.method in SAFE_METHODS:
        return getattr(view, "read_action", "view")
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
