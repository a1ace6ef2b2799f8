"""Signals of the visits app: other parts of Rongxie act on a recorded visit without the visit
form knowing them (coordination items from its problems, the application list from its need,
the due-visit follow-ups, the timeline).

``visit_recorded(sender=Visit, visit=<Visit>, user=<User>, created=<bool>)``
    Sent by ``visits.services.visits.record_visit`` and ``update_visit`` once per save that
    wrote a row, **inside the transaction** of that save (``core.writes.scoped_save``): a
    receiver's writes commit or roll back with the visit, and a receiver that raises refuses
    the whole save. ``created`` is True for a new visit, False for an edit. Not sent when a
    re-sent draft (same ``client_key``) returned the existing visit, since nothing was written.
    Receivers must be idempotent per (visit, version): an edit sends again with the same visit.
    ``visit.status`` is always ``completed`` here.

``visit_withdrawn(sender=Visit, visit=<Visit>, user=<User>)``
    Sent by ``withdraw_visit`` inside its transaction, after the visit's status became
    ``withdrawn`` (a soft delete: the row and its history stay). Receivers undo what the
    visit started where that makes sense (e.g. close its open follow-up).

Connect receivers from your AppConfig.ready; use ``dispatch_uid`` so a double import connects
once.
"""

from django.dispatch import Signal

visit_recorded = Signal()
visit_withdrawn = Signal()
