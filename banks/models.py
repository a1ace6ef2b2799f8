from django.db import connection, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.querysets import RestrictedManager

from .choices import AssignmentRole, BankLevel

# How many levels below a bank its subtree reaches (see Bank.subtree_codes).
SUBTREE_MAX_DEPTH = 10


def bank_rows_scope_q(scope):
    """Rows tied to an enterprise and a bank: the enterprise in the region, the bank among the
    user's branches (each condition only when the scope sets it)."""
    q = Q()
    if scope.region_prefix is not None:
        q &= Q(enterprise__region__code__startswith=scope.region_prefix)
    if scope.bank_codes is not None:
        q &= Q(bank_id__in=list(scope.bank_codes))
    return q


class Bank(models.Model):
    """A bank institution or one of its branches; credit and loan files refer to its code."""

    code = models.CharField(_("bank code"), max_length=40, primary_key=True)
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent institution"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    level = models.CharField(_("level"), max_length=20, choices=BankLevel.choices, blank=True)
    service_regions = models.ManyToManyField(
        "enterprises.Region", verbose_name=_("service regions"), blank=True, related_name="banks"
    )
    capacity = models.PositiveIntegerField(
        _("visit capacity"), null=True, blank=True, help_text=_("Enterprises per visit batch.")
    )
    batch = models.ForeignKey(
        "enterprises.ImportBatch",
        verbose_name=_("import batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("bank")
        verbose_name_plural = _("banks")
        ordering = ["code"]

    def __str__(self):
        return self.name

    @classmethod
    def scope_q(cls, scope):
        # The bank directory is reference data every signed-in user may read.
        return Q()

    def subtree_codes(self):
        """This bank's code and the codes of every branch below it, in one query.

        The tree is walked at most ``SUBTREE_MAX_DEPTH`` levels down (real trees have four:
        head office, branch, sub-branch, outlet), so a parent cycle that reached the table
        still ends: UNION drops repeated rows, the depth bound ends the walk.
        """
        table = connection.ops.quote_name(Bank._meta.db_table)
        sql = f"""
            WITH RECURSIVE subtree(code, depth) AS (
                SELECT code, 0 FROM {table} WHERE code = %s
                UNION
                SELECT b.code, s.depth + 1
                FROM {table} b JOIN subtree s ON b.parent_id = s.code
                WHERE s.depth < %s
            )
            SELECT DISTINCT code FROM subtree
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.code, SUBTREE_MAX_DEPTH])
            codes = sorted(row[0] for row in cursor.fetchall())
        # This bank first, as callers read it.
        return [self.code, *(code for code in codes if code != self.code)]


class BankAssignment(models.Model):
    """An enterprise's lead or backup bank (1 主办行 + 1 备选行)."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="bank_assignments",
    )
    bank = models.ForeignKey(
        Bank, verbose_name=_("bank"), on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=10, choices=AssignmentRole.choices)
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("bank assignment")
        verbose_name_plural = _("bank assignments")
        ordering = ["enterprise", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "role"], name="assignment_one_bank_per_role"
            ),
        ]
        indexes = [
            # Bank-officer scoping: EXISTS (… WHERE enterprise_id = x AND bank_id IN branches).
            models.Index(fields=["bank", "enterprise"], name="assignment_bank_idx"),
        ]

    def __str__(self):
        return f"{self.enterprise_id} → {self.bank_id} ({self.get_role_display()})"

    @classmethod
    def scope_q(cls, scope):
        return bank_rows_scope_q(scope)
