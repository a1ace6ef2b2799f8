"""Changing one assignment's bank by hand (staff, with a required reason)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.workdays import add_working_days
from core.writes import scoped_save
from enterprises.models import Enterprise, Region

from ..choices import AssignmentStatus
from ..models import AllocationRules, Bank, BankAssignment
from .allocation import institution_of, service_areas

# Statuses of a branch that is not (or no longer) the one working the enterprise: a new bank
# in that role keeps it; otherwise the new bank starts its own feedback clock.
IDLE_STATUSES = {AssignmentStatus.WAITING, AssignmentStatus.HANDED_OFF}


def served_region(bank, region_code):
    """The most specific of ``bank``'s service regions covering ``region_code``, or None."""
    matches = [
        (len(prefix), code)
        for code, prefix in service_areas().get(bank.code, ())
        if region_code.startswith(prefix)
    ]
    return max(matches)[1] if matches else None


def override_candidates(assignment):
    """Branches that may replace ``assignment``'s bank: serving the enterprise's location, of
    another institution than the other role's bank, not the current bank (by code)."""
    parents = dict(Bank.objects.values_list("code", "parent_id"))
    other = (
        BankAssignment.objects.filter(enterprise_id=assignment.enterprise_id)
        .exclude(pk=assignment.pk)
        .values_list("bank_id", flat=True)
        .first()
    )
    excluded_institution = institution_of(other, parents) if other else None
    region_code = assignment.enterprise.region_id
    serving = {
        bank_id
        for bank_id, areas in service_areas().items()
        if any(region_code.startswith(prefix) for _code, prefix in areas)
    }
    codes = [
        code
        for code in sorted(serving)
        if code != assignment.bank_id and institution_of(code, parents) != excluded_institution
    ]
    return Bank.objects.filter(code__in=codes).order_by("name", "code")


def override_assignment(user, assignment, bank, reason, today=None):
    """Give ``assignment`` another bank by hand; returns the saved assignment.

    Raises ValidationError without a reason, for a bank not serving the enterprise's location,
    of the same institution as the other role's bank, or the current bank; PermissionDenied
    unless the enterprise is inside the user's ``allocate`` scope (checked in the transaction).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for the change."))
    allowed = Enterprise.objects.restrict(user, "allocate").filter(pk=assignment.enterprise_id)
    if not allowed.exists():
        raise PermissionDenied(_("You may not change the banks of this enterprise."))

    def change():
        current = (
            BankAssignment.objects.select_for_update()
            .select_related("enterprise")
            .get(pk=assignment.pk)
        )
        if bank.code == current.bank_id:
            raise ValidationError(_("This branch already holds the assignment."))
        serves = served_region(bank, current.enterprise.region_id)
        if serves is None:
            raise ValidationError(_("This branch does not serve the enterprise's location."))
        other = (
            BankAssignment.objects.filter(enterprise_id=current.enterprise_id)
            .exclude(pk=current.pk)
            .values_list("bank_id", flat=True)
            .first()
        )
        parents = dict(Bank.objects.values_list("code", "parent_id"))
        if other and institution_of(other, parents) == institution_of(bank.code, parents):
            raise ValidationError(
                _("The lead and the backup bank must belong to two different institutions.")
            )
        current.bank = bank
        current.override_reason = reason
        current.explanation = {"serves": serves, "manual": True}
        if current.status not in IDLE_STATUSES:
            # The new branch gets its own clock for the first feedback.
            county = Region.objects.get(code=current.enterprise.region_id[:6])
            rules = AllocationRules.for_county(county)
            current.status = AssignmentStatus.PENDING
            current.due_on = add_working_days(
                today or timezone.localdate(), rules.feedback_working_days
            )
        current.save(update_fields=["bank", "override_reason", "explanation", "status", "due_on"])
        return current

    # The one write path: saved in a transaction, re-checked against the scope, history kept.
    return scoped_save(user, "allocate", change)
