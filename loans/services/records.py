"""Credit approvals (授信) and loans (借据) recorded by bank officers (and sent by the API).

Every write goes through ``core.writes.scoped_save`` with the ``report`` action: the saved row
must lie inside ``restrict(user, "report")`` — for a bank officer, a bank among their branches
and an enterprise of those branches — or nothing is saved.
"""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.writes import OutOfScope, scoped_save
from enterprises.models import Enterprise

from ..models import CreditApproval, Loan

# A chain longer than this is taken as broken data: the walk stops (and calls it a cycle).
MAX_CHAIN = 200

APPROVAL_FIELDS = (
    "approval_no",
    "approved_on",
    "amount",
    "product",
    "term_months",
    "guarantee",
)
LOAN_FIELDS = (
    "loan_no",
    "disbursed_on",
    "matures_on",
    "amount",
    "balance",
    "product",
    "guarantee",
    "rate",
)


def _check_parties(user, bank, enterprise):
    """The bank must be one of the user's branches, the enterprise one of theirs."""
    if not user.scope.allows("report"):
        raise OutOfScope(_("Only bank officers record credit and loans."))
    codes = user.scope.bank_codes
    errors = {}
    if bank is None:
        errors["bank"] = _("Choose the bank branch.")
    elif codes is not None and bank.pk not in codes:
        errors["bank"] = _("You may only record for your own bank branch.")
    if enterprise is None:
        errors["enterprise"] = _("Choose the enterprise.")
    elif not Enterprise.objects.restrict(user, "report").filter(pk=enterprise.pk).exists():
        errors["enterprise"] = _("This enterprise is not one of your branch's enterprises.")
    if errors:
        raise ValidationError(errors)


def _default_bank(user, data):
    bank = data.get("bank")
    if bank is None and user.bank_id is not None:
        return user.bank
    return bank


def record_approval(user, data, *, instance=None, upsert=False):
    """Create (or, with ``instance``, change) a credit approval from ``data`` (bank,
    enterprise and the APPROVAL_FIELDS); returns the saved approval.

    ``upsert=True`` (bank systems): an approval number already recorded at the bank is updated
    instead of refused. Raises ``ValidationError`` (field → Chinese message) or ``OutOfScope``.
    """
    bank = _default_bank(user, data)
    enterprise = data.get("enterprise")
    _check_parties(user, bank, enterprise)
    if instance is None:
        existing = CreditApproval.all_objects.filter(
            bank=bank, approval_no=data.get("approval_no")
        ).first()
        if existing is not None and not upsert:
            raise ValidationError(
                {"approval_no": _("This approval number is already recorded at this bank.")}
            )
        instance = existing or CreditApproval(created_by=user)
    if (
        instance.pk
        and not CreditApproval.objects.restrict(user, "report").filter(pk=instance.pk).exists()
    ):
        raise OutOfScope()
    instance.bank, instance.enterprise = bank, enterprise
    for field in APPROVAL_FIELDS:
        if field in data:
            value = data[field]
            setattr(
                instance,
                field,
                "" if value is None and field in ("product", "guarantee") else value,
            )
    errors = {}
    if instance.amount is not None and instance.amount <= 0:
        errors["amount"] = _("The amount must be greater than 0.")
    if instance.term_months is not None and not 1 <= instance.term_months <= 360:
        errors["term_months"] = _("The term must be between 1 and 360 months.")
    if errors:
        raise ValidationError(errors)
    instance.full_clean(exclude=["batch", "created_by"])
    return scoped_save(user, "report", instance)


def validate_renewal(loan):
    """Refuse a renewal link that points at the loan itself, at another enterprise's loan, or
    closes a cycle (the original's own chain, walked with a recursive query, reaches ``loan``).
    Raises ``ValidationError({"renews": …})``."""
    original = loan.renews
    if original is None:
        return
    if loan.pk is not None and original.pk == loan.pk:
        raise ValidationError({"renews": _("A loan cannot renew itself.")})
    if original.enterprise_id != loan.enterprise_id:
        raise ValidationError({"renews": _("The original loan belongs to another enterprise.")})
    if original.deleted_at is not None:
        raise ValidationError({"renews": _("The original loan has been deleted.")})
    if loan.pk is None:
        return  # a new loan has no renewals yet: it cannot close a cycle
    table = Loan._meta.db_table
    with connection.cursor() as cursor:
        # Walk up from the original: reaching this loan means the link would close a cycle.
        cursor.execute(
            f"""WITH RECURSIVE up(id, renews_id, depth) AS (
                    SELECT id, renews_id, 1 FROM {table} WHERE id = %s
                    UNION ALL
                    SELECT l.id, l.renews_id, up.depth + 1
                    FROM {table} l JOIN up ON l.id = up.renews_id
                    WHERE up.depth < %s
                )
                SELECT max(CASE WHEN id = %s THEN 1 ELSE 0 END), max(depth) FROM up""",
            [original.pk, MAX_CHAIN, loan.pk],
        )
        hit, depth = cursor.fetchone()
    if hit or (depth or 0) >= MAX_CHAIN:
        raise ValidationError(
            {
                "renews": _(
                    "This link would make a loop of renewals: a loan cannot renew a loan that renews it."
                )
            }
        )


def after_loan_change(enterprise_ids, loan_ids):
    """What a written loan sets going, for every door (form, API): the enterprises' first loans
    and stages, and the loans' maturity-watch entries. Returns the counts of both."""
    from .stages import recompute_stages
    from .watch import refresh_watch

    return {
        "stage_changes": recompute_stages(enterprise_ids=enterprise_ids),
        "watched": refresh_watch(loan_ids=loan_ids),
    }


def record_loan(user, data, *, instance=None, upsert=False):
    """Create (or, with ``instance``, change) a loan from ``data`` (bank, enterprise, the
    LOAN_FIELDS and optionally ``renews``, the loan it continues); returns the saved loan.

    Checks: maturity after disbursement, amount above 0, the renewal link
    (``validate_renewal``, and the original must be the user's to see). Then recomputes the
    enterprise's stage and the loan's maturity-watch entry. ``upsert=True``: a loan number
    already recorded at the bank is updated instead of refused (bank systems).
    """
    bank = _default_bank(user, data)
    enterprise = data.get("enterprise")
    _check_parties(user, bank, enterprise)
    if instance is None:
        existing = Loan.all_objects.filter(bank=bank, loan_no=data.get("loan_no")).first()
        if existing is not None and (not upsert or existing.deleted_at is not None):
            raise ValidationError(
                {"loan_no": _("This loan number is already recorded at this bank.")}
            )
        instance = existing or Loan(created_by=user)
    if instance.pk and not Loan.objects.restrict(user, "report").filter(pk=instance.pk).exists():
        raise OutOfScope()
    old_enterprise = instance.enterprise_id
    instance.bank, instance.enterprise = bank, enterprise
    for field in LOAN_FIELDS:
        if field in data:
            setattr(instance, field, data[field])
    if "renews" in data:
        original = data["renews"]
        if (
            original is not None
            and not Loan.objects.restrict(user, "report").filter(pk=original.pk).exists()
        ):
            raise ValidationError({"renews": _("The original loan is not one of your loans.")})
        instance.renews = original
        instance.is_renewal = original is not None
        instance.renews_loan_no = original.loan_no if original is not None else ""
    errors = {}
    if (
        instance.disbursed_on
        and instance.matures_on
        and instance.matures_on <= instance.disbursed_on
    ):
        errors["matures_on"] = _("The maturity date must be after the disbursement date.")
    if instance.amount is not None and instance.amount <= 0:
        errors["amount"] = _("The amount must be greater than 0.")
    if instance.balance is not None and instance.balance < 0:
        errors["balance"] = _("The balance cannot be negative.")
    if errors:
        raise ValidationError(errors)
    validate_renewal(instance)
    instance.full_clean(exclude=["batch", "created_by", "renews"])

    def save():
        instance.save()
        ids = {instance.enterprise_id, old_enterprise} - {None}
        after_loan_change(ids, [instance.pk])
        return instance

    return scoped_save(user, "report", save)


def delete_loan(user, loan):
    """Soft-delete a loan (``deleted_at``/``deleted_by``, in the change history): it leaves
    every list, figure and chain; its renewals keep their link. Recomputes the stage."""
    if not Loan.objects.restrict(user, "report").filter(pk=loan.pk).exists():
        raise OutOfScope()

    def save():
        loan.deleted_at, loan.deleted_by = timezone.now(), user
        loan.save(update_fields=["deleted_at", "deleted_by"])
        after_loan_change({loan.enterprise_id}, [loan.pk])
        return loan

    with transaction.atomic():
        # The re-check reads live rows only, which a deleted loan no longer is.
        if not user.scope.allows("report"):
            raise OutOfScope()
        return save()


def delete_approval(user, approval):
    """Soft-delete a credit approval (kept, and in the change history)."""
    if not CreditApproval.objects.restrict(user, "report").filter(pk=approval.pk).exists():
        raise OutOfScope()
    approval.deleted_at, approval.deleted_by = timezone.now(), user
    approval.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    return approval
