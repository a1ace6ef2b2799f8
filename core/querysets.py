"""The one scoping rule: every view, API endpoint, export and dashboard query starts here."""

from django.db import models


class RestrictedQuerySet(models.QuerySet):
    """A queryset that can be narrowed to what a user may see or do.

    Each model using it defines ``scope_q(cls, scope)``, returning the Q object that selects
    the rows inside an ``accounts.scope.Scope`` (region prefix, bank branches, or both).
    """

    def restrict(self, user, action="view"):
        """Rows of this queryset that ``user`` may perform ``action`` on (none if not allowed)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        scope = user.scope
        if not scope.allows(action):
            return self.none()
        if scope.everything:
            return self
        return self.filter(self.model.scope_q(scope))


RestrictedManager = models.Manager.from_queryset(RestrictedQuerySet)
