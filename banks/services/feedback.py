"""Feedback of an assigned bank: 已联系 / 已受理 / 已授信 / 不予授信 / 需协调 / 企业暂无需求.

Two clocks run on an assignment. The first (``due_on``, working days) waits for any first
feedback; the hand-off rules act on it (handoff.py). The second (``decision_due_on``,
calendar days, the county's ``AllocationRules.decision_days``, default 30) starts when the
bank marks the application materials complete (已受理 with 材料齐全) and waits for the credit
decision (已授信 or 不予授信); an overdue decision is shown to staff ("needs attention") and
to the bank's officers, it hands nothing off. A 不予授信 hands the enterprise to the backup
bank at once, with or without complete materials.

A 已授信 feedback is the bank's word that credit was granted (amount and product); it is not
a credit approval record: loans.CreditApproval (approval number, term, …) is entered apart.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.writes import scoped_save
from enterprises.choices import REGION_PREFIX_LENGTH, RegionLevel

from ..choices import AssignmentStatus, CreditProduct, DeclineReason, FeedbackStatus
from ..models import AllocationRules, BankAssignment, BankFeedback
from .handoff import hand_off

# A lead that handed the enterprise on, or a backup still standing by, has nothing to answer.
CLOSED = (AssignmentStatus.HANDED_OFF, AssignmentStatus.WAITING)
# The credit decisions: they stop the second clock.
DECISIONS = (FeedbackStatus.CREDITED, FeedbackStatus.DECLINED)
# Whose decision clock no longer matters: the enterprise has no need, or went to the backup.
DECISION_MOOT = (AssignmentStatus.NO_NEED, AssignmentStatus.HANDED_OFF)
COUNTY_PREFIX = REGION_PREFIX_LENGTH[RegionLevel.COUNTY]


def answerable(user):
    """The assignments ``user`` may answer for: its own bank's (officer or bank token)."""
    queryset = BankAssignment.objects.restrict(user, "report")
    return queryset if user.scope.bank_codes is not None else queryset.none()


def decision_overdue_q(today):
    """Assignments whose credit decision is overdue on ``today`` (materials complete, no
    已授信 / 不予授信 by the due date, still open)."""
    return Q(decision_due_on__lt=today, decided_on__isnull=True) & ~Q(status__in=DECISION_MOOT)


def decision_days_for(region_code):
    """The county's calendar days from complete materials to the decision (default 30)."""
    county = (region_code or "")[:COUNTY_PREFIX]
    days = (
        AllocationRules.objects.filter(region_id=county)
        .values_list("decision_days", flat=True)
        .first()
    )
    return days if days is not None else AllocationRules._meta.get_field("decision_days").default


def _amount(value):
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValidationError(
            {"credit_amount": _("Enter the amount as a number in 10k yuan (万元).")}
        ) from None
    return amount if amount.is_finite() else None


def validate_feedback(
    status,
    reason="",
    decline_reason="",
    credit_amount=None,
    credit_product="",
    materials_complete_on=None,
    feedback_on=None,
    today=None,
):
    """Check one answer; raise ValidationError by field (every field's error at once).

    不予授信 needs a reason code and an explanation; 已授信 an amount (万元, > 0) and a
    product; the materials are marked complete only with 已受理. Returns the clean amount.
    """
    today = today or timezone.localdate()
    errors = {}
    if status not in FeedbackStatus.values:
        errors["status"] = _("Choose one of the listed answers.")
    amount = None
    try:
        amount = _amount(credit_amount)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if status == FeedbackStatus.DECLINED:
        if not decline_reason:
            errors["decline_reason"] = _("Choose the reason credit was declined.")
        if not reason:
            errors["reason"] = _("Give the reason credit was declined.")
    elif decline_reason:
        errors["decline_reason"] = _("A reason for declining goes only with 'Credit declined'.")
    if decline_reason and decline_reason not in DeclineReason.values:
        errors["decline_reason"] = _("Choose one of the listed reasons.")
    if status == FeedbackStatus.CREDITED:
        if amount is None and "credit_amount" not in errors:
            errors["credit_amount"] = _("Give the amount of credit granted (10k yuan).")
        if not credit_product:
            errors["credit_product"] = _("Choose the product credit was granted for.")
    else:
        if amount is not None:
            errors["credit_amount"] = _("An amount goes only with 'Credit granted'.")
        if credit_product:
            errors["credit_product"] = _("A product goes only with 'Credit granted'.")
    if amount is not None and amount <= 0 and "credit_amount" not in errors:
        errors["credit_amount"] = _("The amount must be greater than 0.")
    if credit_product and credit_product not in CreditProduct.values:
        errors["credit_product"] = _("Choose one of the listed products.")
    if materials_complete_on is not None:
        if status != FeedbackStatus.ACCEPTED:
            errors["materials_complete_on"] = _(
                "Materials are marked complete only with 'Application accepted'."
            )
        elif materials_complete_on > today:
            errors["materials_complete_on"] = _("The date cannot be in the future.")
    if feedback_on is not None and feedback_on > today:
        errors["feedback_on"] = _("The date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    return amount


def record_feedback(
    user,
    assignment,
    status,
    reason="",
    *,
    decline_reason="",
    credit_amount=None,
    credit_product="",
    materials_complete_on=None,
    feedback_on=None,
):
    """Record a bank's feedback on ``assignment`` and set the assignment's status to it.

    Only the assignment's own bank answers (an officer of the branch or above it, or a
    bank-scoped partner token with the ``report`` action). The first feedback stops the
    first clock (the assignment is no longer pending); 不予授信 needs a reason code and an
    explanation and hands the enterprise to the backup bank at once; 已授信 needs the amount
    and product. ``materials_complete_on`` (with 已受理) starts the decision clock once; the
    first decision stops it. Raises ValidationError (by field) or PermissionDenied.
    """
    reason = (reason or "").strip()
    decline_reason = (decline_reason or "").strip()
    credit_product = (credit_product or "").strip()
    today = timezone.localdate()
    feedback_on = feedback_on or today
    amount = validate_feedback(
        status,
        reason,
        decline_reason,
        credit_amount,
        credit_product,
        materials_complete_on,
        feedback_on,
        today,
    )

    def answer():
        locked = (
            answerable(user)
            .select_for_update(of=("self",))
            .select_related("enterprise")
            .filter(pk=assignment.pk)
            .first()
        )
        if locked is None:
            raise PermissionDenied(_("Only the assigned bank may answer for this enterprise."))
        if locked.status in CLOSED:
            raise ValidationError(
                {"status": _("This bank has no open assignment for this enterprise.")}
            )
        feedback = BankFeedback.objects.create(
            assignment=locked,
            status=status,
            reason=reason,
            decline_reason=decline_reason,
            credit_amount=amount,
            credit_product=credit_product,
            materials_complete_on=materials_complete_on,
            feedback_on=feedback_on,
            created_by=user,
        )
        changed = ["status"]
        locked.status = status
        if materials_complete_on is not None and locked.materials_complete_on is None:
            # The clock starts once: marking the materials complete again does not reset it.
            days = decision_days_for(locked.enterprise.region_id)
            locked.materials_complete_on = materials_complete_on
            locked.decision_due_on = materials_complete_on + timedelta(days=days)
            changed += ["materials_complete_on", "decision_due_on"]
        if status in DECISIONS and locked.decided_on is None:
            locked.decided_on = feedback_on
            changed.append("decided_on")
        locked.save(update_fields=changed)
        if status == FeedbackStatus.DECLINED:
            hand_off(today, enterprise_ids=[locked.enterprise_id])
        return feedback

    # The one write path: saved in a transaction, the feedback re-checked against the
    # user's ``report`` scope (refused and rolled back otherwise), history kept.
    feedback = scoped_save(user, "report", answer)
    assignment.refresh_from_db(
        fields=["status", "due_on", "materials_complete_on", "decision_due_on", "decided_on"]
    )
    return feedback
