"""What a recorded visit sets going (connected in VisitsConfig.ready): its problems become
coordination items, and its follow-up is scheduled (closing the due visits it did).

``visit_recorded`` is sent inside the visit's save transaction, so a failure here rolls the
visit back too: a visit is never saved without its items and due visits.
"""

from django.dispatch import receiver

from .models import Visit
from .services.followups import schedule_after_visit, undo_withdrawn_visit
from .services.items import items_from_visit
from .signals import visit_recorded, visit_withdrawn


@receiver(visit_recorded, sender=Visit, dispatch_uid="visits.items_from_visit")
def open_items(sender, visit, user=None, created=False, **kwargs):
    items_from_visit(visit, user)


@receiver(visit_recorded, sender=Visit, dispatch_uid="visits.schedule_after_visit")
def schedule_follow_up(sender, visit, user=None, created=False, **kwargs):
    schedule_after_visit(visit)


@receiver(visit_withdrawn, sender=Visit, dispatch_uid="visits.undo_withdrawn_visit")
def undo_follow_up(sender, visit, user=None, **kwargs):
    undo_withdrawn_visit(visit)
