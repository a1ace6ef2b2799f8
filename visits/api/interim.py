"""Stand-ins for the visit and item services until ``visits/services/visits.py`` (record_visit,
update_visit) and ``visits/services/items.py`` (update_item) land; the API imports those
when they exist (see views.py) and these only otherwise. Same signatures; the bare minimum:
the scoped write path and optimistic locking, no follow-up scheduling.
"""

from django.db import IntegrityError, transaction

from core.locking import save_if_unchanged
from core.writes import scoped_save

from ..models import Visit


def record_visit(user, data, client_key=None):
    """Save a new visit from ``data`` (model field names); a known ``client_key`` returns the
    visit it made before."""
    if client_key is not None:
        existing = Visit.objects.filter(client_key=client_key).first()
        if existing is not None:
            return existing

    def save():
        visit = Visit(**data, client_key=client_key, created_by=user)
        visit.save()
        return visit

    try:
        with transaction.atomic():
            return scoped_save(user, "visit", save)
    except IntegrityError:
        if client_key is None:
            raise
        return Visit.objects.get(client_key=client_key)  # the same draft, sent twice at once


def update_visit(user, visit, data, expected_version):
    def save():
        for name, value in data.items():
            setattr(visit, name, value)
        return save_if_unchanged(visit, expected_version)

    return scoped_save(user, "visit", save)


def update_item(user, item, data, expected_version):
    def save():
        for name, value in data.items():
            setattr(item, name, value)
        return save_if_unchanged(item, expected_version)

    return scoped_save(user, "visit", save)
