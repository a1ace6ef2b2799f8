"""The API base classes: every viewset reads and writes through ``restrict(user, action)``.

- reads start from ``restrict(user, read_action)`` (default "view"); rows outside the scope
  are absent, so asking for one answers 404, never data;
- writes start from ``restrict(user, write_action)`` (default "change"), so an out-of-scope
  row cannot be changed or deleted (404), and each create / update / delete runs in a
  transaction whose saved row is re-checked (core/writes.py): a change that would move it
  outside the scope is rolled back and answers 403;
- a user whose role lacks the action gets 403.

A new endpoint subclasses ``ScopedModelViewSet`` (or the read-only / generic variants) and
sets ``write_action``; nothing else to remember. NetBox does the same in
``utilities/querysets.py`` and the ``_validate_objects`` re-check of its base views.
"""

from rest_framework import exceptions, viewsets

from core.writes import OutOfScope, scoped_delete, scoped_save

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ScopedViewSetMixin:
    """Scopes every read and write of a viewset to the requesting user."""

    read_action = "view"
    write_action = "change"
    denied_message = None  # shown with the 403 of a role that lacks the action

    def __init_subclass__(cls, **kwargs):
        # DRF's write mixins listed before this class would save without the re-check.
        super().__init_subclass__(**kwargs)
        for name in ("perform_create", "perform_update", "perform_destroy"):
            owner = getattr(cls, name).__qualname__.split(".")[0]
            if owner in ("CreateModelMixin", "UpdateModelMixin", "DestroyModelMixin"):
                raise TypeError(f"{cls.__name__}: list the Scoped base class before {owner}")

    def scope_action(self):
        """The action this request needs: ``read_action`` to read, ``write_action`` to write."""
        if self.request.method in SAFE_METHODS:
            return self.read_action
        return self.write_action

    def check_permissions(self, request):
        super().check_permissions(request)
        if not request.user.scope.allows(self.scope_action()):
            self.permission_denied(request, message=self.denied_message)

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user, self.scope_action())

    def scoped_save(self, save):
        """Run ``save`` (returns the saved object) with the scope re-check; 403 if refused."""
        try:
            return scoped_save(self.request.user, self.write_action, save)
        except OutOfScope as exc:
            raise exceptions.PermissionDenied(exc.args[0]) from exc

    def perform_create(self, serializer):
        self.scoped_save(serializer.save)

    def perform_update(self, serializer):
        self.scoped_save(serializer.save)

    def perform_destroy(self, instance):
        try:
            scoped_delete(self.request.user, self.write_action, instance)
        except OutOfScope as exc:
            raise exceptions.PermissionDenied(exc.args[0]) from exc


class ScopedGenericViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """Pick the actions with DRF's mixins (ListModelMixin, CreateModelMixin …)."""


class ScopedReadOnlyModelViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve, scoped."""


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """List, retrieve, create, update, delete: scoped, in a transaction, re-checked."""
