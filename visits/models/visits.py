from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.locking import Versioned
from core.querysets import RestrictedManager
from core.records import CoordinationRecord
from enterprises.models import AMOUNT, enterprise_scope_q

from ..choices import (
    DueReason,
    Intent,
    NeedPurpose,
    ProblemType,
    VisitMethod,
    VisitRound,
    VisitStatus,
    guarantee_choices,
)


class Visit(Versioned, CoordinationRecord):
    """One field visit (走访) of an enterprise: the 1+1 team, what they found, the financing need.

    Written by the visit form (a township worker or bank officer, on a phone), the API and the
    ``visits`` import kind. ``client_key`` is the id the browser gives a draft, so a draft sent
    again after a dropped connection never makes a second visit.
    """

    # The codes the JSON lists hold, so the change history names them in words.
    history_choices = {"problems": ProblemType.choices, "acceptable_guarantees": guarantee_choices}

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="visits",
        db_index=False,  # visit_enterprise_date_idx leads with it
    )
    round = models.CharField(
        _("round"), max_length=10, choices=VisitRound.choices, default=VisitRound.FIRST
    )
    visited_on = models.DateField(_("visit date"))
    method = models.CharField(
        _("method"), max_length=10, choices=VisitMethod.choices, default=VisitMethod.ON_SITE
    )
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.COMPLETED
    )
    # The 1+1 team. Names are kept as text when an imported name matches no user.
    township_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("township worker"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    township_worker_name = models.CharField(_("township worker (name)"), max_length=100, blank=True)
    bank = models.ForeignKey(
        "banks.Bank",
        verbose_name=_("bank"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
    )
    bank_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("bank officer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    bank_officer_name = models.CharField(_("bank officer (name)"), max_length=100, blank=True)
    operating_normally = models.BooleanField(_("operating normally"), null=True, blank=True)
    # The financing need.
    has_need = models.BooleanField(_("has a financing need"))
    need_amount = models.DecimalField(
        _("amount needed (10k yuan)"), **AMOUNT, null=True, blank=True
    )
    need_purpose = models.CharField(
        _("purpose"), max_length=20, choices=NeedPurpose.choices, blank=True
    )
    need_term_months = models.PositiveSmallIntegerField(_("term (months)"), null=True, blank=True)
    acceptable_guarantees = models.JSONField(
        _("acceptable guarantees"),
        default=list,
        blank=True,
        help_text=_("Codes of loans.Guarantee."),
    )
    intent = models.CharField(_("intent"), max_length=10, choices=Intent.choices, blank=True)
    problems = models.JSONField(
        _("problems needing coordination"),
        default=list,
        blank=True,
        help_text=_("Codes of visits.ProblemType; each becomes a coordination item."),
    )
    note = models.TextField(_("notes"), blank=True)
    next_visit_on = models.DateField(_("next visit due on"), null=True, blank=True)
    client_key = models.UUIDField(_("draft id"), null=True, blank=True, unique=True)
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
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(need_amount__isnull=True) | Q(need_amount__gt=0),
                name="visit_need_amount_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["enterprise", "visited_on"], name="visit_enterprise_date_idx"),
            # visited_enterprises: WHERE visited_on BETWEEN … (then the enterprise's region).
            models.Index(fields=["visited_on"], name="visit_date_idx"),
        ]

    def __str__(self):
        return f"{self.enterprise.name} · {self.visited_on} · {self.get_round_display()}"

    @classmethod
    def scope_q(cls, scope):
        """The enterprise in scope; for a bank user, also a visit made without a bank or with
        one of its branches: another bank's visit is that bank's business, as its loans are."""
        q = enterprise_scope_q(scope, "enterprise__")
        if scope.bank_codes is not None:
            q &= Q(bank__isnull=True) | Q(bank_id__in=list(scope.bank_codes))
        return q


class Campaign(CoordinationRecord):
    """A second-round visit campaign (二次走访) for a sector, tier or township: fills the due lists."""

    name = models.CharField(_("name"), max_length=200)
    round = models.CharField(
        _("round"), max_length=10, choices=VisitRound.choices, default=VisitRound.SECOND
    )
    region = models.ForeignKey(
        "enterprises.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    criteria = models.JSONField(
        _("criteria"), default=dict, blank=True, help_text=_("industry section, tier, township.")
    )
    due_on = models.DateField(_("visits due by"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("launched by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("launched at"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit campaign")
        verbose_name_plural = _("visit campaigns")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    @classmethod
    def scope_q(cls, scope):
        if scope.region_prefix is None:
            return Q(pk__in=[])
        return Q(region__code__startswith=scope.region_prefix)


class DueVisit(models.Model):
    """A visit that should happen by ``due_on``: a follow-up of a visit that found a need or
    strong intent, or a campaign's. Closed by the next visit of the enterprise (``done_by``)."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="due_visits",
    )
    due_on = models.DateField(_("due on"))
    # The day the visit became due (the source visit's date, the campaign's launch): a visit
    # dated on or after it closes it; an older visit, recorded late, does not.
    opened_on = models.DateField(_("due since"), null=True, blank=True)
    round = models.CharField(_("round"), max_length=10, choices=VisitRound.choices)
    reason = models.CharField(_("reason"), max_length=10, choices=DueReason.choices)
    source_visit = models.ForeignKey(
        Visit,
        verbose_name=_("after the visit"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="due_visits",
    )
    done_by = models.ForeignKey(
        Visit,
        verbose_name=_("done by the visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("due visit")
        verbose_name_plural = _("due visits")
        ordering = ["due_on", "id"]
        indexes = [
            # A worker's due list: open ones of the township, soonest first.
            models.Index(
                fields=["due_on"], name="duevisit_open_idx", condition=Q(done_by__isnull=True)
            ),
        ]

    def __str__(self):
        return f"{self.enterprise_id} · {self.due_on}"

    @classmethod
    def scope_q(cls, scope):
        return enterprise_scope_q(scope, "enterprise__")
