from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from banks.models import bank_rows_scope_q, region_rows_scope_q
from core.querysets import RestrictedManager, RestrictedQuerySet
from core.records import CoordinationRecord
from enterprises.models import AMOUNT, enterprise_scope_q

from .choices import ContactOutcome, Guarantee, LoanProduct, Stage


class LiveManager(RestrictedManager):
    """The default manager of soft-deleted records: rows with ``deleted_at`` set are gone from
    every ORM read (pages, API, dashboards, scoping links, reverse relations); ``all_objects``
    still reaches them (admin, history)."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


AllManager = models.Manager.from_queryset(RestrictedQuerySet)


class SoftDeleted(models.Model):
    """``deleted_at`` / ``deleted_by``: a deletion that stays in the change history."""

    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = LiveManager()
    all_objects = AllManager()

    class Meta:
        abstract = True


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


class Loan(SoftDeleted, CoordinationRecord):
    """One loan (借据) from a bank's ledger or recorded by a bank officer; a renewal without
    repayment (无还本续贷) points to the loan it continues (``renews``).

    Imported rows are written by set-based SQL (no per-row history: the batch is their
    provenance); rows saved through the ORM (the loan form, the admin) are in the change
    history, as a CoordinationRecord, and the bank API writes the entries of its upserts. ``is_first_loan`` is derived
    (loans/services/stages.py), never typed.
    """

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
    is_first_loan = models.BooleanField(
        _("first loan"), default=False, db_default=False, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    batch = models.ForeignKey(
        "enterprises.ImportBatch",
        verbose_name=_("import batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    history_options = {"exclude_fields": ["is_first_loan"]}

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
            # The maturity watch: live loans maturing in the next days.
            models.Index(
                fields=["matures_on"],
                name="loan_live_maturity_idx",
                condition=Q(deleted_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.bank_id}/{self.loan_no}"

    @classmethod
    def scope_q(cls, scope):
        return bank_rows_scope_q(scope)

    def outstanding_on(self, day):
        return self.disbursed_on <= day < self.matures_on


class CreditApproval(SoftDeleted, CoordinationRecord):
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


class LoanRules(CoordinationRecord):
    """A county's rules for loans: when an enterprise becomes a partner client (伙伴客户) and how
    many days before maturity the bank must have talked to it (提前1个月与企业沟通).

    A county without a row uses the settings' defaults (LOANS_PARTNER_AFTER_LOANS,
    LOANS_PARTNER_PRODUCTS, LOANS_MATURITY_WATCH_DAYS)."""

    region = models.OneToOneField(
        "enterprises.Region",
        verbose_name=_("county"),
        on_delete=models.CASCADE,
        related_name="loan_rules",
    )
    partner_after_loans = models.PositiveSmallIntegerField(
        _("partner after this many loans"),
        default=2,
        help_text=_("New loans (renewals not counted) that make a first-loan client a partner."),
    )
    partner_products = models.PositiveSmallIntegerField(
        _("partner with this many products"),
        default=2,
        help_text=_("Different loan products held that make a client a partner."),
    )
    watch_days = models.PositiveSmallIntegerField(
        _("maturity watch (days)"),
        default=30,
        help_text=_("Loans maturing within this many days need a renewal contact."),
    )

    class Meta:
        verbose_name = _("county loan rules")
        verbose_name_plural = _("county loan rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(partner_after_loans__gte=2), name="loanrules_partner_loans_min"
            ),
            models.CheckConstraint(
                condition=Q(partner_products__gte=2), name="loanrules_partner_products_min"
            ),
            models.CheckConstraint(
                condition=Q(watch_days__gte=1, watch_days__lte=366), name="loanrules_watch_range"
            ),
        ]

    def __str__(self):
        return str(self.region)

    @classmethod
    def scope_q(cls, scope):
        return region_rows_scope_q(scope)


class EnterpriseStage(models.Model):
    """An enterprise's current stage on the path 无贷户 → 首贷户 → 伙伴客户 (derived from its
    loans and credit data by loans/services/stages.py; one row per enterprise that has one)."""

    enterprise = models.OneToOneField(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="loan_stage",
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    since = models.DateField(_("since"))
    first_loan = models.ForeignKey(
        Loan,
        verbose_name=_("first loan"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"))

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("enterprise stage")
        verbose_name_plural = _("enterprise stages")
        indexes = [models.Index(fields=["stage", "since"], name="stage_since_idx")]

    def __str__(self):
        return f"{self.enterprise_id} · {self.stage}"

    @classmethod
    def scope_q(cls, scope):
        return enterprise_scope_q(scope, "enterprise__")


class StageChange(models.Model):
    """One step of an enterprise's stage history: from → to, on which day, caused by which loan
    (none when a correction, e.g. a deleted loan or newer credit data, moved it). The timeline
    shows these rows."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="stage_changes",
    )
    from_stage = models.CharField(_("from stage"), max_length=20, choices=Stage.choices)
    to_stage = models.CharField(_("to stage"), max_length=20, choices=Stage.choices)
    changed_on = models.DateField(_("changed on"))
    loan = models.ForeignKey(
        Loan,
        verbose_name=_("cause loan"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["enterprise", "changed_on", "id"]
        indexes = [
            models.Index(fields=["enterprise", "changed_on"], name="stagechange_ent_idx"),
            models.Index(fields=["changed_on"], name="stagechange_date_idx"),
        ]

    def __str__(self):
        return f"{self.enterprise_id} · {self.from_stage} → {self.to_stage} · {self.changed_on}"

    @classmethod
    def scope_q(cls, scope):
        """The enterprise in scope; for a bank user, only the moves its own loans caused: the
        date of another bank's loan is that bank's business (as its first-loan dates are)."""
        q = enterprise_scope_q(scope, "enterprise__")
        if scope.bank_codes is not None:
            q &= Q(loan__bank_id__in=list(scope.bank_codes))
        return q


def _loan_rows_scope_q(scope):
    q = Q()
    if scope.region_prefix is not None:
        q &= Q(loan__enterprise__region__code__startswith=scope.region_prefix)
    if scope.bank_codes is not None:
        q &= Q(loan__bank_id__in=list(scope.bank_codes))
    return q


class RenewalContact(CoordinationRecord):
    """The bank's talk with an enterprise before its loan matures (提前1个月与企业沟通): when,
    and what was agreed. Recording one takes the loan off the maturity watch."""

    loan = models.ForeignKey(
        Loan,
        verbose_name=_("loan"),
        on_delete=models.CASCADE,
        related_name="renewal_contacts",
    )
    contacted_on = models.DateField(_("contacted on"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=ContactOutcome.choices)
    note = models.TextField(_("note"), blank=True, max_length=1000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("renewal contact")
        verbose_name_plural = _("renewal contacts")
        ordering = ["-contacted_on", "-id"]
        indexes = [models.Index(fields=["loan", "contacted_on"], name="contact_loan_idx")]

    def __str__(self):
        return f"{self.loan_id} · {self.contacted_on} · {self.outcome}"

    @classmethod
    def scope_q(cls, scope):
        return _loan_rows_scope_q(scope)


class MaturityWatch(models.Model):
    """The maturity watch list ("到期前一个月未联系"): live loans maturing within the county's
    window whose bank has recorded no renewal contact. Kept up to date by the daily job with
    set-based SQL (loans/services/watch.py); a recorded contact removes its row at once."""

    loan = models.OneToOneField(
        Loan,
        verbose_name=_("loan"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    bank = models.ForeignKey(
        "banks.Bank", verbose_name=_("bank"), on_delete=models.CASCADE, related_name="+"
    )
    county = models.CharField(_("county code"), max_length=12)
    matures_on = models.DateField(_("matures on"))
    computed_on = models.DateField(_("on the watch since"))

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("maturity watch entry")
        verbose_name_plural = _("maturity watch")
        ordering = ["matures_on", "loan"]
        indexes = [
            models.Index(fields=["bank", "matures_on"], name="watch_bank_idx"),
            models.Index(fields=["county"], name="watch_county_idx"),
        ]

    def __str__(self):
        return f"{self.loan_id} · {self.matures_on}"

    @classmethod
    def scope_q(cls, scope):
        return bank_rows_scope_q(scope)
