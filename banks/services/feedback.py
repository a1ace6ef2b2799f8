"""Feedback of an assigned bank: 已联系 / 已受理 / 已授信 / 不予授信 / 需协调 / 企业暂无需求."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.writes import scoped_save

from ..choices import AssignmentStatus, FeedbackStatus
from ..models import BankAssignment, BankFeedback
from .handoff import hand_off

# A lead that handed the enterprise on, or a backup still standing by, has nothing to answer.
CLOSED = (AssignmentStatus.HANDED_OFF, AssignmentStatus.WAITING)


def answerable(user):
    """The assignments ``user`` may answer for: its own bank's (officer or bank token)."""
    queryset = BankAssignment.objects.restrict(user, "report")
    return queryset if user.scope.bank_codes is not None else queryset.none()


def record_feedback(user, assignment, status, reason=""):
    """Record a bank's feedback on ``assignment`` and set the assignment's status to it.

    Only the assignment's own bank answers (an officer of the branch or above it, or a
    bank-scoped partner token with the ``report`` action). The first feedback stops the
    clock (the assignment is no longer pending); 不予授信 needs a reason and hands the
    enterprise to the backup bank at once. Raises ValidationError (by field) or
    PermissionDenied.
    """
    reason = (reason or "").strip()
    if status not in FeedbackStatus.values:
        raise ValidationError({"status": _("Choose one of the listed answers.")})
    if status == FeedbackStatus.DECLINED and not reason:
        raise ValidationError({"reason": _("Give the reason credit was declined.")})

    def answer():
        locked = answerable(user).select_for_update(of=("self",)).filter(pk=assignment.pk).first()
        if locked is None:
            raise PermissionDenied(_("Only the assigned bank may answer for this enterprise."))
        if locked.status in CLOSED:
            raise ValidationError(
                {"status": _("This bank has no open assignment for this enterprise.")}
            )
        feedback = BankFeedback.objects.create(
            assignment=locked, status=status, reason=reason, created_by=user
        )
        locked.status = status
        locked.save(update_fields=["status"])
        if status == FeedbackStatus.DECLINED:
            hand_off(timezone.localdate(), enterprise_ids=[locked.enterprise_id])
        return feedback

    # The one write path: saved in a transaction, the feedback re-checked against the
    # user's ``report`` scope (refused and rolled back otherwise), history kept.
    feedback = scoped_save(user, "report", answer)
    assignment.refresh_from_db(fields=["status", "due_on"])
    return feedback
