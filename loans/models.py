from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from banks.models import bank_rows_scope_q
from core.querysets import RestrictedManager
from core.records import CoordinationRecord
from enterprises.models import AMOUNT

from .choices import Guarantee, LoanProduct


class CreditSnapshot(models.Model):
    """A bank's (or the credit system's) credit limit and loan balance of an enterprise on a date."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="credit_snapshots",
    )
    bank = models.ForeignKey(
        "banks.Bank",
        verbose_name=_("bank"),
        on_delete=models.PROTECT,
        related_name="credit_snapshots",
    )
    as_of = models.DateField(_("as of"))
    credit_limit = models.DecimalField(
        _("credit limit (10k yuan)"), **AMOUNT, null=True, blank=True
    )
    loan_balance = models.DecimalField(_("loan balance (10k yuan)"), **AMOUNT)
    first_loan_date = models.DateField(_("first loan date"), null=True, blank=True)
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
        verbose_name = _("credit snapshot")
        verbose_name_plural = _("credit snapshots")
        ordering = ["enterprise", "bank", "-as_of"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "bank", "as_of"], name="credit_one_per_bank_date"
            ),
        ]
        indexes = [
            # Bank-officer scoping and per-bank pivots.
            models.Index(fields=["bank", "enterprise"], name="credit_bank_idx"),
        ]

    def __str__(self):
        return f"{self.enterprise_id} · {self.bank_id} · {self.as_of}"

    @classmethod
    def scope_q(cls, scope):
        return bank_rows_scope_q(scope)


class Loan(models.Model):
    """One loan (借据) from a bank's ledger; a renewal without repayment points to the loan it continues."""

    bank = models.ForeignKey(
        "banks.Bank", verbose_name=_("bank"), on_delete=models.PROTECT, related_name="loans"
    )
    loan_no = models.CharField(_("loan number"), max_length=64)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="loans",
    )
    disbursed_on = models.DateField(_("disbursed on"))
    matures_on = models.DateField(_("matures on"))
    amount = models.DecimalField(_("amount (10k yuan)"), **AMOUNT)
    balance = models.DecimalField(_("balance (10k yuan)"), **AMOUNT, null=True, blank=True)
    product = models.CharField(_("product"), max_length=20, choices=LoanProduct.choices)
    guarantee = models.CharField(_("guarantee"), max_length=10, choices=Guarantee.choices)
    rate = models.DecimalField(
        _("annual rate (%)"), max_digits=8, decimal_places=4, null=True, blank=True
    )
    is_renewal = models.BooleanField(_("renewal without principal repayment"), default=False)
    renews_loan_no = models.CharField(_("original loan number"), max_length=64, blank=True)
    renews = models.ForeignKey(
        "self",
        verbose_name=_("original loan"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewals",
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
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-disbursed_on", "bank", "loan_no"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "loan_no"], name="loan_unique_per_bank"),
            models.CheckConstraint(
                condition=Q(matures_on__gt=models.F("disbursed_on")),
                name="loan_matures_after_disbursement",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="loan_amount_positive"),
        ]
        indexes = [
            # Period sums and first-loan dates: WHERE enterprise_id = x ORDER BY disbursed_on.
            models.Index(fields=["enterprise", "disbursed_on"], name="loan_enterprise_date_idx"),
            models.Index(fields=["disbursed_on"], name="loan_disbursed_idx"),
        ]

    def __str__(self):
        return f"{self.bank_id}/{self.loan_no}"

    @classmethod
    def scope_q(cls, scope):
        return bank_rows_scope_q(scope)

    def outstanding_on(self, day):
        return self.disbursed_on <= day < self.matures_on


class CreditApproval(CoordinationRecord):
    """A credit approval (授信) a bank granted an enterprise, recorded by its officer, sent by the
    bank's system through the API, or imported (the ``approvals`` kind). ``approval_no`` is the
    bank's own id: re-sending it updates the row, never duplicates it."""

    bank = models.ForeignKey(
        "banks.Bank",
        verbose_name=_("bank"),
        on_delete=models.PROTECT,
        related_name="credit_approvals",
    )
    approval_no = models.CharField(_("approval number"), max_length=64)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="credit_approvals",
    )
    approved_on = models.DateField(_("approved on"))
    amount = models.DecimalField(_("amount (10k yuan)"), **AMOUNT)
    product = models.CharField(_("product"), max_length=20, choices=LoanProduct.choices, blank=True)
    term_months = models.PositiveSmallIntegerField(_("term (months)"), null=True, blank=True)
    guarantee = models.CharField(
        _("guarantee"), max_length=10, choices=Guarantee.choices, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    batch = models.ForeignKey(
        "enterprises.ImportBatch",
        verbose_name=_("import batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("credit approval")
        verbose_name_plural = _("credit approvals")
        ordering = ["-approved_on", "bank", "approval_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "approval_no"], name="approval_unique_per_bank"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="approval_amount_positive"),
            models.CheckConstraint(
                condition=Q(term_months__isnull=True) | Q(term_months__gte=1, term_months__lte=360),
                name="approval_term_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["approved_on"], name="approval_date_idx"),
            models.Index(fields=["enterprise", "approved_on"], name="approval_enterprise_idx"),
        ]

    def __str__(self):
        return f"{self.bank_id}/{self.approval_no}"

    @classmethod
    def scope_q(cls, scope):
        return bank_rows_scope_q(scope)
