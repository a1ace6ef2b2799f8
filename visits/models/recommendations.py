from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from banks.models import bank_rows_scope_q, region_rows_scope_q
from core.locking import Versioned
from core.records import CoordinationRecord
from enterprises.models import AMOUNT, enterprise_scope_q

from ..choices import ApplicationStatus, FiveStandard


class Application(Versioned, CoordinationRecord):
    """An entry of the application list (申报清单): an enterprise with a real need found on a
    visit, checked against the five standards by one task-force member (``checks``) and
    approved by a second (maker-checker) before it joins the recommendation list."""

    history_choices = {"checks": FiveStandard.choices}  # the change history names them in words

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="applications",
    )
    visit = models.ForeignKey(
        "visits.Visit",
        verbose_name=_("need found on the visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    need_amount = models.DecimalField(
        _("amount needed (10k yuan)"), **AMOUNT, null=True, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.PENDING,
    )
    # {FiveStandard code: true/false} as ticked by the checker.
    checks = models.JSONField(_("five-standards check"), default=dict, blank=True)
    check_note = models.TextField(_("check notes"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("application-list entry")
        verbose_name_plural = _("application list")
        ordering = ["created_at", "id"]
        constraints = [
            # One open entry per enterprise: a later visit updates it instead of adding one.
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(status__in=["pending", "checked"]),
                name="application_one_open",
            ),
        ]

    def __str__(self):
        return f"{self.enterprise.name} · {self.get_status_display()}"

    @classmethod
    def scope_q(cls, scope):
        return enterprise_scope_q(scope, "enterprise__")


class RecommendationBatch(CoordinationRecord):
    """One push of approved enterprises to a bank (推荐批次); its date is their recommendation date."""

    bank = models.ForeignKey(
        "banks.Bank",
        verbose_name=_("bank"),
        on_delete=models.PROTECT,
        related_name="recommendation_batches",
    )
    region = models.ForeignKey(
        "enterprises.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    batch_no = models.CharField(_("batch number"), max_length=64, blank=True)
    pushed_on = models.DateField(_("pushed on"))
    pushed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("pushed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("recommendation batch")
        verbose_name_plural = _("recommendation batches")
        ordering = ["-pushed_on", "-id"]

    def __str__(self):
        return f"{self.bank.name} · {self.pushed_on}"

    @classmethod
    def scope_q(cls, scope):
        q = Q()
        if scope.region_prefix is not None:
            q &= Q(region__code__startswith=scope.region_prefix)
        if scope.bank_codes is not None:
            q &= Q(bank_id__in=list(scope.bank_codes))
        return q


class Recommendation(CoordinationRecord):
    """An enterprise on the recommendation list (推荐清单) of a bank, from the five-standards
    workflow (``application``) or imported. ``recommended_on`` — the push date — is the date
    the KPIs and time-to-loan count from; null while approved but not yet pushed."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="recommendations",
        db_index=False,  # recommendation_unique leads with it
    )
    bank = models.ForeignKey(
        "banks.Bank",
        verbose_name=_("bank"),
        on_delete=models.PROTECT,
        related_name="recommendations",
    )
    application = models.ForeignKey(
        Application,
        verbose_name=_("application-list entry"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recommendations",
    )
    push = models.ForeignKey(
        RecommendationBatch,
        verbose_name=_("recommendation batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recommendations",
    )
    recommended_on = models.DateField(_("recommended on"), null=True, blank=True)
    batch_no = models.CharField(_("batch number"), max_length=64, blank=True)
    need_amount = models.DecimalField(
        _("amount needed (10k yuan)"), **AMOUNT, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    batch = models.ForeignKey(
        "enterprises.ImportBatch",
        verbose_name=_("import batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendation list")
        ordering = ["-recommended_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "bank", "recommended_on"], name="recommendation_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["recommended_on"], name="recommendation_date_idx"),
        ]

    def __str__(self):
        return f"{self.enterprise.name} → {self.bank.name}"

    @classmethod
    def scope_q(cls, scope):
        return bank_rows_scope_q(scope)


class RecommendationRules(CoordinationRecord):
    """A county's five-standards rules (defaults apply to a county without its own row):
    how many months an enterprise must have been established to count as 合规持续经营."""

    DEFAULT_MIN_MONTHS = 12

    region = models.OneToOneField(
        "enterprises.Region",
        verbose_name=_("county"),
        on_delete=models.CASCADE,
        related_name="recommendation_rules",
    )
    min_months_established = models.PositiveSmallIntegerField(
        _("months established at least"), default=DEFAULT_MIN_MONTHS
    )

    class Meta:
        verbose_name = _("recommendation rules")
        verbose_name_plural = _("recommendation rules")

    def __str__(self):
        return str(self.region)

    @classmethod
    def scope_q(cls, scope):
        return region_rows_scope_q(scope)
