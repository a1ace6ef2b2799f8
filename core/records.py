"""The base of every record people write by hand (docs/history.md, README "Writing data")."""

from django.db import models

from .querysets import RestrictedManager


class CoordinationRecord(models.Model):
    """A hand-written coordination record: bank assignments, visits, recommendations, feedback,
    credit approvals, loans entered by hand, rule sets …

    Subclassing gives, with nothing else to do: ``objects.restrict(user, action)`` for scoped
    reads and for the re-check of scoped writes (core/writes.py, core/api/viewsets.py), and the
    change history of every create / update / delete (core/history.py). A subclass defines
    ``scope_q(cls, scope)`` and may set ``history_options`` (e.g. ``{"m2m_fields": {...}}``).
    """

    history_options = {}

    objects = RestrictedManager()

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, scope):
        raise NotImplementedError(f"{cls.__name__} must say which rows a scope covers")
