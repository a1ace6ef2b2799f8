from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.locking import Versioned
from core.records import CoordinationRecord
from enterprises.models import enterprise_scope_q

from ..choices import ItemLevel, ItemStatus, ProblemType


class CoordinationItem(Versioned, CoordinationRecord):
    """A problem found on a visit that someone must coordinate (问题协调): 担保不足, 利率 …

    Owned by a department (by name) or a bank branch, and optionally a person; escalated to
    city level when the county cannot solve it.
    """

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="coordination_items",
    )
    visit = models.ForeignKey(
        "visits.Visit",
        verbose_name=_("found on the visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
    )
    problem = models.CharField(_("problem"), max_length=12, choices=ProblemType.choices)
    description = models.TextField(_("description"), blank=True)
    owner_department = models.CharField(_("responsible department"), max_length=100, blank=True)
    owner_bank = models.ForeignKey(
        "banks.Bank",
        verbose_name=_("responsible bank"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coordination_items",
        db_index=False,  # item_owner_bank_idx leads with it
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coordination_items",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ItemStatus.choices, default=ItemStatus.OPEN
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    level = models.CharField(
        _("level"), max_length=10, choices=ItemLevel.choices, default=ItemLevel.COUNTY
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalation_reason = models.TextField(_("reason for escalation"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    batch = models.ForeignKey(
        "enterprises.ImportBatch",
        verbose_name=_("import batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("coordination item")
        verbose_name_plural = _("coordination items")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="item_open_age_idx",
                condition=~Q(status=ItemStatus.RESOLVED),
            ),
            # items_from_visit: is this problem already open for the enterprise?
            models.Index(
                fields=["enterprise", "problem"],
                name="item_open_problem_idx",
                condition=~Q(status=ItemStatus.RESOLVED),
            ),
            # A bank officer's "my items": WHERE owner_bank_id IN (branches).
            models.Index(fields=["owner_bank", "created_at"], name="item_owner_bank_idx"),
        ]

    def __str__(self):
        return f"{self.enterprise.name} · {self.get_problem_display()}"

    @property
    def is_open(self):
        return self.status != ItemStatus.RESOLVED

    @property
    def owner_label(self):
        """Who must act: the bank branch, else the department (names, for screens)."""
        return self.owner_bank.name if self.owner_bank_id else self.owner_department

    @classmethod
    def scope_q(cls, scope):
        # A bank sees the items of its enterprises and those it owns.
        q = enterprise_scope_q(scope, "enterprise__")
        if scope.bank_codes is not None and scope.region_prefix is None:
            q |= Q(owner_bank_id__in=list(scope.bank_codes))
        return q
