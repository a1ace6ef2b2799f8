from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.querysets import RestrictedManager
from core.records import CoordinationRecord
from enterprises.models import AMOUNT

from .choices import (
    AssignmentRole,
    AssignmentStatus,
    BankLevel,
    CreditProduct,
    DeclineReason,
    FeedbackStatus,
    HandOffCause,
    UnplacedReason,
)

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


class Bank(CoordinationRecord):
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
    # db_default: the banks import writes rows with set-based SQL that may not name the column.
    focus_areas = models.JSONField(
        _("focus areas"),
        default=list,
        db_default=models.Value([], models.JSONField()),
        blank=True,
        help_text=_("Codes of banks.FocusArea."),
    )
    # The branch's task-force contact (name and phone): personal data, masked like the others.
    contact = models.CharField(_("task-force contact"), max_length=100, blank=True, db_default="")
    batch = models.ForeignKey(
        "enterprises.ImportBatch",
        verbose_name=_("import batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    history_options = {"m2m_fields": {"service_regions"}}

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


def region_rows_scope_q(scope):
    """Rows tied to a region (visit batches, allocation runs): inside the user's region; none
    for bank-scoped users (staff business)."""
    if scope.region_prefix is None or scope.bank_codes is not None:
        return Q(pk__in=[])
    return Q(region__code__startswith=scope.region_prefix)


class AllocationRules(CoordinationRecord):
    """How a county allocates banks (defaults apply to a county without its own row)."""

    region = models.OneToOneField(
        "enterprises.Region",
        verbose_name=_("county"),
        on_delete=models.CASCADE,
        related_name="allocation_rules",
    )
    prefer_existing_lender = models.BooleanField(
        _("prefer the branch it already borrows from"), default=True
    )
    use_focus_areas = models.BooleanField(_("focus areas break ties"), default=True)
    feedback_working_days = models.PositiveSmallIntegerField(
        _("working days for first feedback"), default=7
    )
    # The second clock: calendar days (not working days) from "materials complete" to the
    # credit decision (已授信 or 不予授信), as the issue says "within N days".
    decision_days = models.PositiveSmallIntegerField(
        _("days for the credit decision after complete materials"), default=30
    )

    class Meta:
        verbose_name = _("allocation rules")
        verbose_name_plural = _("allocation rules")

    def __str__(self):
        return str(self.region)

    @classmethod
    def scope_q(cls, scope):
        return region_rows_scope_q(scope)

    @classmethod
    def for_county(cls, county):
        """The county's rules, or the defaults (unsaved) when it has none."""
        return cls.objects.filter(region=county).first() or cls(region=county)


class VisitBatch(CoordinationRecord):
    """A cut of a county's key-visit list (分层分批), allocated to banks one batch at a time.

    ``criteria`` is the cut as staff chose it (tiers, ratings, loan status, lending banks,
    townships, foreign trade); the members are frozen when the batch is made.
    """

    region = models.ForeignKey(
        "enterprises.Region",
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="visit_batches",
    )
    name = models.CharField(_("name"), max_length=100)
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    size = models.PositiveIntegerField(_("enterprises"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit batch")
        verbose_name_plural = _("visit batches")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    @classmethod
    def scope_q(cls, scope):
        return region_rows_scope_q(scope)


class VisitBatchMember(models.Model):
    """An enterprise of a visit batch."""

    batch = models.ForeignKey(
        VisitBatch, verbose_name=_("visit batch"), on_delete=models.CASCADE, related_name="members"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        verbose_name = _("visit batch member")
        verbose_name_plural = _("visit batch members")
        constraints = [
            models.UniqueConstraint(fields=["batch", "enterprise"], name="batch_member_once")
        ]

    def __str__(self):
        return f"{self.batch_id} · {self.enterprise_id}"


class AllocationRun(models.Model):
    """One allocation of a county (or one visit batch of it): what was placed, the loads, and
    every enterprise that could not be placed."""

    region = models.ForeignKey(
        "enterprises.Region",
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    visit_batch = models.ForeignKey(
        VisitBatch,
        verbose_name=_("visit batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
    )
    job = models.ForeignKey(
        "core.Job",
        verbose_name=_("job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # {"placed": n, "unplaced": n, "kept": n, "loads": {"lead": {"max", "min", "mean"}, ...}}
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("allocation run")
        verbose_name_plural = _("allocation runs")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.region} · {self.created_at:%Y-%m-%d %H:%M}"

    @classmethod
    def scope_q(cls, scope):
        return region_rows_scope_q(scope)


class UnplacedEnterprise(models.Model):
    """An enterprise an allocation run could not place, and why (never skipped silently)."""

    run = models.ForeignKey(
        AllocationRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="unplaced"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=30, choices=UnplacedReason.choices)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("unplaced enterprise")
        verbose_name_plural = _("unplaced enterprises")
        ordering = ["run", "enterprise"]

    def __str__(self):
        return f"{self.enterprise_id}: {self.get_reason_display()}"

    @classmethod
    def scope_q(cls, scope):
        # Staff business: the enterprise has no bank yet, so no bank scope reaches it.
        if scope.region_prefix is None or scope.bank_codes is not None:
            return Q(pk__in=[])
        return Q(enterprise__region__code__startswith=scope.region_prefix)


class BankAssignment(CoordinationRecord):
    """An enterprise's lead or backup bank (1 主办行 + 1 备选行).

    ``explanation`` holds why this branch was chosen as codes and values (rendered in the
    user's language by ``banks.services.allocation.explain``); ``due_on`` is the last working
    day for the first feedback, set when the branch's clock starts.

    The second clock: ``materials_complete_on`` is the day the bank marked the application
    materials complete (its first 已受理 with 材料齐全), ``decision_due_on`` that day plus the
    county's ``decision_days`` calendar days, ``decided_on`` the date of its first credit
    decision (已授信 or 不予授信). A decision is on time when ``decided_on <= decision_due_on``.
    """

    # No index of their own: the unique (enterprise, role) and the (bank, enterprise) indexes
    # serve every lookup, and an allocation writes each index once per row.
    # The explanation is derived data (codes and loads): the reason and the bank tell the story.
    history_options = {"exclude_fields": ["explanation"]}

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="bank_assignments",
        db_index=False,
    )
    bank = models.ForeignKey(
        Bank,
        verbose_name=_("bank"),
        on_delete=models.PROTECT,
        related_name="assignments",
        db_index=False,
    )
    role = models.CharField(_("role"), max_length=10, choices=AssignmentRole.choices)
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AssignmentStatus.choices,
        default=AssignmentStatus.PENDING,
    )
    due_on = models.DateField(_("feedback due on"), null=True, blank=True)
    materials_complete_on = models.DateField(_("materials complete on"), null=True, blank=True)
    decision_due_on = models.DateField(_("credit decision due on"), null=True, blank=True)
    decided_on = models.DateField(_("credit decided on"), null=True, blank=True)
    explanation = models.JSONField(_("why this bank"), default=dict, blank=True)
    run = models.ForeignKey(
        AllocationRun,
        verbose_name=_("allocation run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignments",
    )
    override_reason = models.TextField(_("reason for the manual change"), blank=True)
    # 1+1: the township worker who visits with the lead bank (set on the lead assignment).
    township_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("township worker"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="paired_assignments",
    )

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
        # Read in the change history and the admin: names, not ids.
        return f"{self.enterprise.name} → {self.bank.name} ({self.get_role_display()})"

    @classmethod
    def scope_q(cls, scope):
        return bank_rows_scope_q(scope)


def bank_side_scope_q(scope, assignment="assignment"):
    """Rows hanging off an assignment: the assignment inside the user's scope."""
    q = Q()
    if scope.region_prefix is not None:
        q &= Q(**{f"{assignment}__enterprise__region__code__startswith": scope.region_prefix})
    if scope.bank_codes is not None:
        q &= Q(**{f"{assignment}__bank_id__in": list(scope.bank_codes)})
    return q


class BankFeedback(CoordinationRecord):
    """One answer of an assigned bank about an enterprise (the first one stops its clock).

    ``reason`` is the explanation or note (required with 不予授信); ``decline_reason`` the
    code of why credit was declined; ``credit_amount`` (万元) and ``credit_product`` what was
    granted with 已授信 — a feedback, not a credit approval (loans.CreditApproval is the bank's
    approval record, entered apart); ``materials_complete_on`` the day the bank marked the
    materials complete (with 已受理), which starts the decision clock of the assignment.
    ``feedback_on`` is the date of the answer (imports give it; the screens use today).
    """

    assignment = models.ForeignKey(
        BankAssignment,
        verbose_name=_("bank assignment"),
        on_delete=models.CASCADE,
        related_name="feedback",
    )
    status = models.CharField(_("feedback"), max_length=20, choices=FeedbackStatus.choices)
    reason = models.TextField(_("explanation or note"), blank=True)
    decline_reason = models.CharField(
        _("reason credit was declined"),
        max_length=30,
        choices=DeclineReason.choices,
        blank=True,
        db_default="",
    )
    credit_amount = models.DecimalField(
        _("credit granted (10k yuan)"), **AMOUNT, null=True, blank=True
    )
    credit_product = models.CharField(
        _("credit product"),
        max_length=20,
        choices=CreditProduct.choices,
        blank=True,
        db_default="",
    )
    materials_complete_on = models.DateField(_("materials complete on"), null=True, blank=True)
    feedback_on = models.DateField(_("feedback date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("given by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("given at"), auto_now_add=True)
    batch = models.ForeignKey(
        "enterprises.ImportBatch",
        verbose_name=_("import batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("bank feedback")
        verbose_name_plural = _("bank feedback")
        ordering = ["-feedback_on", "-created_at", "-id"]
        indexes = [
            # The import's key (assignment, feedback date, result) and "latest answer" reads.
            models.Index(fields=["assignment", "feedback_on"], name="feedback_assignment_day_idx"),
        ]

    def __str__(self):
        return f"{self.assignment_id}: {self.get_status_display()}"

    @classmethod
    def scope_q(cls, scope):
        return bank_side_scope_q(scope)


class HandOff(models.Model):
    """An enterprise passed from its lead bank to the backup (no feedback in time, or credit
    declined). With no ``to_assignment`` the enterprise went no further: the backup bank ran
    out of time or declined too (or there was no backup standing by)."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    # One hand-off per assignment: the daily job can run twice without doing anything twice.
    from_assignment = models.OneToOneField(
        BankAssignment,
        verbose_name=_("from"),
        on_delete=models.CASCADE,
        related_name="hand_off",
    )
    to_assignment = models.ForeignKey(
        BankAssignment,
        verbose_name=_("to"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="hand_offs_received",
    )
    cause = models.CharField(_("cause"), max_length=20, choices=HandOffCause.choices)
    created_at = models.DateTimeField(_("when"))

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("hand-off")
        verbose_name_plural = _("hand-offs")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.enterprise_id}: {self.get_cause_display()}"

    @classmethod
    def scope_q(cls, scope):
        # A bank sees the hand-offs from or to its branches (staff: of their region).
        q = Q()
        if scope.region_prefix is not None:
            q &= Q(enterprise__region__code__startswith=scope.region_prefix)
        if scope.bank_codes is not None:
            codes = list(scope.bank_codes)
            q &= Q(from_assignment__bank_id__in=codes) | Q(to_assignment__bank_id__in=codes)
        return q
