from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.querysets import RestrictedManager
from core.records import CoordinationRecord
from enterprises.models import enterprise_scope_q

from .choices import ChangeKind, ListType, RunStatus, default_weights

# NO_FK_NOTE: memberships, exclusions and changes are written by INSERT … SELECT from the
# enterprises and the run of the same transaction, so they cannot point at missing rows; a
# database foreign key would only add a deferred check per row at COMMIT (about 1 s per
# 100k rows). Deletion still cascades (Django's on_delete), and runs clean up by run_id.
#
# NO_ENTERPRISE_INDEX_NOTE: memberships and exclusions are always read within runs (list
# pages, API, exports, dashboards: run + list; the enterprise panel: run + enterprise with
# every list type spelled out), which the unique (run, list_type, enterprise) index serves.
# An index on enterprise alone served no query and cost ~20% of every rebuild's writes.


class RuleSet(CoordinationRecord):
    """A versioned set of screening weights and thresholds; each run records the one it used."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(
        _("in use"), default=True, help_text=_("Runs use the highest active version.")
    )
    weights = models.JSONField(
        _("weights"),
        default=default_weights,
        help_text=_(
            "Points per tax rating, bank-count band (0, 1, 2-3, 4+), size and entity type."
        ),
    )
    tier1_min_score = models.PositiveIntegerField(_("tier 1 minimum score"), default=70)
    tier2_min_score = models.PositiveIntegerField(_("tier 2 minimum score"), default=45)
    key_visit_min_score = models.PositiveIntegerField(
        _("key visit list minimum score"),
        default=0,
        help_text=_("Active entities scoring below this are left off the key visit list."),
    )
    batch_size = models.PositiveIntegerField(
        _("batch size"), default=200, help_text=_("Enterprises per visit batch within a tier.")
    )
    first_loan_period_start = models.DateField(
        _("first-loan period start"),
        null=True,
        blank=True,
        help_text=_("Empty: 1 January of the current year."),
    )
    first_loan_period_end = models.DateField(
        _("first-loan period end"), null=True, blank=True, help_text=_("Empty: today.")
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("rule set")
        verbose_name_plural = _("rule sets")
        ordering = ["-version"]

    def __str__(self):
        return f"v{self.version} · {self.name}"

    @classmethod
    def scope_q(cls, scope):
        return Q()  # configuration every signed-in user may read

    @classmethod
    def current(cls):
        """The active rule set with the highest version (created with defaults when none)."""
        rule_set = cls.objects.filter(is_active=True).order_by("-version").first()
        if rule_set is None:
            rule_set, _created = cls.objects.get_or_create(version=1, defaults={"name": "default"})
        return rule_set

    def weight(self, group, key):
        return int(self.weights.get(group, {}).get(key or "", 0))


class ScreeningRun(models.Model):
    """One rebuild of all lists of one county; exactly one succeeded run per region is current."""

    region = models.ForeignKey(
        "enterprises.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="screening_runs",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    is_current = models.BooleanField(_("current"), default=False)
    rule_set = models.ForeignKey(
        RuleSet,
        verbose_name=_("rule set"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
    )
    previous = models.ForeignKey(
        "self",
        verbose_name=_("previous run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    job = models.ForeignKey(
        "core.Job",
        verbose_name=_("job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    as_of = models.DateField(_("as of"), null=True, blank=True)
    period_start = models.DateField(_("first-loan period start"), null=True, blank=True)
    period_end = models.DateField(_("first-loan period end"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("screening run")
        verbose_name_plural = _("screening runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The lists readers see: at most one current run per region.
            models.UniqueConstraint(
                fields=["region"],
                condition=Q(is_current=True),
                name="screening_one_current_run_per_region",
            ),
            # Two runs of one region never overlap: inserting a second running run fails.
            models.UniqueConstraint(
                fields=["region"],
                condition=Q(status="running"),
                name="screening_one_running_run_per_region",
            ),
        ]
        indexes = [
            # Run list: WHERE region_id LIKE '330326%' ORDER BY created_at DESC.
            models.Index(fields=["region", "-created_at"], name="screening_run_region_idx"),
        ]

    def __str__(self):
        return f"{self.region} #{self.pk}"

    @classmethod
    def scope_q(cls, scope):
        if scope.region_prefix is None:
            return Q()  # bank officers: runs carry no enterprise data, only counts
        # A user sees runs of its region and of the counties inside it, and a township user
        # the run of its county (whose rows the membership scope narrows again).
        return Q(region__code__startswith=scope.region_prefix) | Q(
            region__code=scope.region_prefix[:6]
        )

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class ListMembership(models.Model):
    """An enterprise on one list of one run, with its tier, batch and inclusion reasons."""

    run = models.ForeignKey(
        ScreeningRun,
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,  # served by the unique (run, list_type, enterprise) index
        db_constraint=False,  # derived rows: see NO_FK_NOTE
    )
    list_type = models.CharField(_("list"), max_length=12, choices=ListType.choices)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="list_memberships",
        db_index=False,  # see NO_ENTERPRISE_INDEX_NOTE
        db_constraint=False,  # derived rows: see NO_FK_NOTE
    )
    tier = models.PositiveSmallIntegerField(_("tier"), null=True, blank=True)
    batch_no = models.PositiveIntegerField(_("batch"), null=True, blank=True)
    score = models.IntegerField(_("score"), null=True, blank=True)
    rating = models.CharField(_("tax credit rating"), max_length=1, blank=True)
    bank_count = models.PositiveSmallIntegerField(_("lending banks"), default=0)
    first_loan_on = models.DateField(_("first loan date"), null=True, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("list membership")
        verbose_name_plural = _("list memberships")
        ordering = ["list_type", "tier", "batch_no", "enterprise"]
        constraints = [
            # Also serves list browsing: WHERE run_id = x AND list_type = y.
            models.UniqueConstraint(
                fields=["run", "list_type", "enterprise"], name="membership_one_per_list"
            ),
        ]

    def __str__(self):
        return f"{self.run_id} · {self.list_type} · {self.enterprise_id}"

    @classmethod
    def scope_q(cls, scope):
        return enterprise_scope_q(scope, "enterprise__")


class ListExclusion(models.Model):
    """Why a registered enterprise of the run's region is not on a list (active, key visit)."""

    run = models.ForeignKey(
        ScreeningRun,
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="exclusions",
        db_index=False,  # served by the unique (run, list_type, enterprise) index
        db_constraint=False,  # derived rows: see NO_FK_NOTE
    )
    list_type = models.CharField(_("list"), max_length=12, choices=ListType.choices)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="list_exclusions",
        db_index=False,  # see NO_ENTERPRISE_INDEX_NOTE
        db_constraint=False,  # derived rows: see NO_FK_NOTE
    )
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    obstacles = models.PositiveSmallIntegerField(_("obstacles"), default=1)
    repairable = models.BooleanField(
        _("repairable"), default=False, help_text=_("One fixable reason away from the list.")
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("list exclusion")
        verbose_name_plural = _("list exclusions")
        ordering = ["list_type", "enterprise"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "list_type", "enterprise"], name="exclusion_one_per_list"
            ),
        ]

    def __str__(self):
        return f"{self.run_id} · {self.list_type} · {self.enterprise_id}"

    @classmethod
    def scope_q(cls, scope):
        return enterprise_scope_q(scope, "enterprise__")


class ListChange(models.Model):
    """One entry into or exit from a list between a run and the previous one, and why."""

    run = models.ForeignKey(
        ScreeningRun,
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="changes",
        db_index=False,  # served by the (run, list_type, change) index
        db_constraint=False,  # derived rows: see NO_FK_NOTE
    )
    list_type = models.CharField(_("list"), max_length=12, choices=ListType.choices)
    change = models.CharField(_("change"), max_length=8, choices=ChangeKind.choices)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,  # derived rows: see NO_FK_NOTE
    )
    reasons = models.JSONField(_("reasons"), default=list, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("list change")
        verbose_name_plural = _("list changes")
        ordering = ["list_type", "change", "enterprise"]
        indexes = [
            # Diff page: WHERE run_id = x [AND list_type = y AND change = z].
            models.Index(fields=["run", "list_type", "change"], name="listchange_run_idx"),
        ]

    def __str__(self):
        return f"{self.run_id} · {self.list_type} · {self.change} · {self.enterprise_id}"

    @classmethod
    def scope_q(cls, scope):
        return enterprise_scope_q(scope, "enterprise__")
