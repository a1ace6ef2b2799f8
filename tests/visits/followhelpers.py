"""Visits recorded the way visits.services.visits.record_visit records them: the row saved,
then ``visit_recorded`` sent inside the same transaction."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from visits.models import Visit
from visits.signals import visit_recorded


def record(user, enterprise, *, created=True, **fields):
    defaults = {
        "visited_on": timezone.localdate(),
        "has_need": False,
        "round": "first",
        "township_worker": user if user.role == "township_worker" else None,
        "created_by": user,
    }
    defaults.update(fields)
    with transaction.atomic():
        visit = Visit.objects.create(enterprise=enterprise, **defaults)
        visit_recorded.send(sender=Visit, visit=visit, user=user, created=created)
    return visit


def days(n):
    return timezone.localdate() + timedelta(days=n)
