"""The bank part of the enterprise timeline: lead and backup assignments, hand-offs, feedback.

A bank officer reads only their branches' rows (``restrict``), and a hand-off names only the
banks they may see: nothing of the other bank (as on the workspace).
"""

from django.utils.translation import gettext as _

from enterprises.timeline import Event, join, label, person, register_source

from .choices import AssignmentRole, AssignmentStatus, HandOffCause
from .models import BankAssignment, BankFeedback, HandOff


def assignment_events(enterprise, user, limit):
    """The enterprise's lead and backup banks the user may see, with the 1+1 township worker
    and a manual change's reason (one query)."""
    rows = (
        BankAssignment.objects.restrict(user)
        .filter(enterprise=enterprise)
        .select_related("bank", "township_worker")
        .order_by("-assigned_at", "-pk")[:limit]
    )
    events = []
    for row in rows:
        if row.role == AssignmentRole.LEAD:
            title = _("Lead bank: {bank}").format(bank=row.bank.name)
        else:
            title = _("Backup bank: {bank}").format(bank=row.bank.name)
        worker = person(user, row.township_worker)
        events.append(
            Event(
                row.assigned_at,
                _("Bank matching"),
                title,
                join(
                    label(AssignmentStatus, row.status),
                    _("feedback due {day}").format(day=row.due_on.isoformat())
                    if row.due_on
                    else "",
                    _("township worker {name}").format(name=worker) if worker else "",
                    _("changed by hand: {reason}").format(reason=row.override_reason)
                    if row.override_reason
                    else "",
                ),
                icon="bi-bank",
            )
        )
    return events


def handoff_events(enterprise, user, limit):
    """Hand-offs from the lead to the backup bank, or the end of the line (one query)."""
    rows = (
        HandOff.objects.restrict(user)
        .filter(enterprise=enterprise)
        .select_related("from_assignment__bank", "to_assignment__bank")
        .order_by("-created_at", "-pk")[:limit]
    )
    codes = user.scope.bank_codes  # None: the user may read every bank

    def shown(assignment):
        if assignment is None or (codes is not None and assignment.bank_id not in codes):
            return ""
        return assignment.bank.name

    events = []
    for row in rows:
        if row.to_assignment_id:
            title = _("Handed to the backup bank")
            banks = f"{shown(row.from_assignment)} → {shown(row.to_assignment)}".strip(" →")
        else:
            title = _("Not handed on: no bank left")
            banks = shown(row.from_assignment)
        events.append(
            Event(
                row.created_at,
                _("Hand-off"),
                title,
                join(label(HandOffCause, row.cause), banks),
                icon="bi-arrow-left-right",
            )
        )
    return events


def feedback_events(enterprise, user, limit):
    """Each answer of an assigned bank the user may see (one query)."""
    rows = (
        BankFeedback.objects.restrict(user)
        .filter(assignment__enterprise=enterprise)
        .select_related("assignment__bank", "created_by")
        .order_by("-created_at", "-pk")[:limit]
    )
    kind = _("Bank feedback")
    return [
        Event(
            row.created_at,
            kind,
            icon="bi-chat-left-text",
            render=lambda row=row: {
                "title": label(AssignmentStatus, row.status),
                "detail": join(row.assignment.bank.name, row.reason, person(user, row.created_by)),
            },
        )
        for row in rows
    ]


def register_sources():
    register_source("assignments", assignment_events)
    register_source("handoffs", handoff_events)
    register_source("feedback", feedback_events)
