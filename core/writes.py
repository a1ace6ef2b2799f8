"""The one write path for pages and forms: save in a transaction, re-check the scope.

``scoped_save(user, action, obj)`` saves ``obj`` (or runs a callable that saves and returns
it) inside ``transaction.atomic``, then re-reads the row through
``Model.objects.restrict(user, action)``. A row that ended outside the user's scope (say its
enterprise moved to another county, or its bank to another branch) rolls the whole change back
and raises ``OutOfScope``. The API base viewsets (core/api/viewsets.py) use the same functions.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _


class OutOfScope(PermissionDenied):
    """The change would write a row outside the user's scope; nothing was written."""

    default_message = _("This change would put the record outside your scope; nothing was saved.")

    def __init__(self, message=None):
        super().__init__(message or self.default_message)


def in_scope(user, action, obj):
    """Whether the stored row of ``obj`` is inside ``restrict(user, action)``."""
    manager = type(obj)._default_manager
    # _get_pk_val: the real primary key even where a proxy redefines ``pk`` (DRF's token).
    return manager.restrict(user, action).filter(pk=obj._get_pk_val()).exists()


def scoped_save(user, action, obj_or_callable):
    """Save (or run the callable that saves) and re-check the saved row; return it.

    Raises ``OutOfScope`` (a ``PermissionDenied``) after rolling back when the saved row is not
    in ``restrict(user, action)``.
    """
    if not user.scope.allows(action):
        raise OutOfScope(_("You may not do this."))
    with transaction.atomic():
        if callable(obj_or_callable):
            obj = obj_or_callable()
        else:
            obj = obj_or_callable
            obj.save()
        if not in_scope(user, action, obj):
            raise OutOfScope()
    return obj


def scoped_delete(user, action, obj):
    """Delete ``obj`` if its row is in ``restrict(user, action)``, else raise ``OutOfScope``."""
    with transaction.atomic():
        if not in_scope(user, action, obj):
            raise OutOfScope()
        obj.delete()
