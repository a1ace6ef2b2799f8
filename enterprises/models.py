import operator
from functools import reduce

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from core.i18n import localized
from core.querysets import RestrictedManager

from .choices import (
    REGION_PREFIX_LENGTH,
    EnterpriseSize,
    EntityType,
    ImportKind,
    ImportStatus,
    NegativeListType,
    RegionLevel,
    RegistrationStatus,
    RejectionReason,
    TaxCreditRating,
)

AMOUNT = {"max_digits": 20, "decimal_places": 6}  # 万元, exact to the fen

SOURCE_DEPARTMENTS = {
    ImportKind.REGISTRY: _("Market regulation"),
    ImportKind.CENSUS: _("Statistics bureau"),
    ImportKind.TAX: _("Tax bureau"),
    ImportKind.CREDIT: _("Banks / credit information system"),
    ImportKind.NEGATIVE: _("Courts / credit departments"),
    ImportKind.LOANS: _("Banks"),
    ImportKind.BANKS: _("Financial regulator"),
    ImportKind.FEEDBACK: _("Banks"),
}


# The tables tying an enterprise to a bank (models with ``enterprise`` and ``bank`` foreign
# keys) by the name of the tie, registered from the ready() of the apps that own them (banks:
# "assigned"; loans: "borrowing", "credit"), so that this app imports neither.
ENTERPRISE_BANK_LINKS = {}


def register_bank_link(model, tie):
    ENTERPRISE_BANK_LINKS[tie] = model


def enterprise_scope_q(scope, path=""):
    """Q selecting rows whose enterprise (reached by ``path``, e.g. "enterprise__") is in scope.

    Region scope: the enterprise's region code starts with the scope's prefix.
    Bank scope: the enterprise is assigned to, borrows from, or has credit at one of the branches.
    Both set (a partner system of a bank, limited to a region): both must hold.
    """
    q = Q()
    if scope.region_prefix is not None:
        q &= Q(**{f"{path}region__code__startswith": scope.region_prefix})
    if scope.bank_codes is not None:
        outer = OuterRef(path.removesuffix("__") or "pk")
        codes = list(scope.bank_codes)
        links = [
            Exists(model.objects.filter(enterprise=outer, bank_id__in=codes))
            for model in ENTERPRISE_BANK_LINKS.values()
        ]
        q &= reduce(operator.or_, links) if links else Q(pk__in=[])
    return q


class Region(models.Model):
    """An administrative division (province, city, county or township) with its NBS code."""

    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def scope_prefix(self):
        return self.code[: REGION_PREFIX_LENGTH[self.level]]

    def contains(self, code):
        return bool(code) and code.startswith(self.scope_prefix)

    @classmethod
    def scope_q(cls, scope):
        # The region table is reference data every signed-in user may read.
        return Q()

    def ancestors(self):
        """This region's ancestors, top first (for breadcrumbs)."""
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))


class ImportBatch(models.Model):
    """One uploaded file of one kind, its dry run, and (when applied) the rows it wrote."""

    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("content hash"), max_length=64, db_index=True)
    file_size = models.BigIntegerField(_("file size"), default=0)
    stored_file = models.CharField(_("stored file"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    forced = models.BooleanField(_("forced"), default=False)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("The uploader's region; rows outside it are rejected."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    job = models.ForeignKey(
        "core.Job",
        verbose_name=_("job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_created = models.PositiveIntegerField(_("rows created"), default=0)
    rows_updated = models.PositiveIntegerField(_("rows updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("rows unchanged"), default=0)
    rows_failed = models.PositiveIntegerField(_("rows with errors"), default=0)
    unknown_columns = models.JSONField(_("unknown columns"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    rejected_for = models.CharField(
        _("rejected for"), max_length=20, choices=RejectionReason.choices, blank=True
    )
    skip_bad_rows = models.BooleanField(
        _("bad rows skipped"),
        default=False,
        help_text=_("Applied without its bad rows, past the error threshold, by explicit choice."),
    )
    touched_regions = models.ManyToManyField(
        Region,
        verbose_name=_("regions touched"),
        blank=True,
        related_name="+",
        help_text=_("The regions of the rows this batch checked or wrote."),
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.file_name}"

    @property
    def source_department(self):
        """The department whose data this kind of file carries (for provenance on pages)."""
        return SOURCE_DEPARTMENTS.get(self.kind, "")

    @classmethod
    def scope_q(cls, scope):
        """The user's own batches, and those of their region: uploaded there or touching it."""
        q = Q(created_by_id=scope.user_id)
        if scope.region_prefix is not None:
            touched = cls.touched_regions.through.objects.filter(
                importbatch_id=OuterRef("pk"), region__code__startswith=scope.region_prefix
            )
            q |= Q(region__code__startswith=scope.region_prefix) | Exists(touched)
        return q

    @property
    def can_force(self):
        """Force (import again) is only for a file rejected as already imported."""
        return (
            self.status == ImportStatus.REJECTED and self.rejected_for == RejectionReason.DUPLICATE
        )

    @property
    def rows_valid(self):
        return max(self.rows_read - self.rows_failed, 0)

    @property
    def can_skip_bad_rows(self):
        """A batch rejected for too many bad rows may be applied without them (explicit choice)."""
        return (
            self.status == ImportStatus.REJECTED
            and self.rejected_for == RejectionReason.TOO_MANY_ERRORS
            and self.rows_valid > 0
        )


class Enterprise(models.Model):
    """A market entity from the register (company, individual business or cooperative)."""

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=200)
    entity_type = models.CharField(_("entity type"), max_length=20, choices=EntityType.choices)
    legal_rep = models.CharField(_("legal representative"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    established_on = models.DateField(_("established on"))
    registered_capital = models.DecimalField(
        _("registered capital (10k yuan)"), **AMOUNT, null=True, blank=True
    )
    status = models.CharField(
        _("registration status"), max_length=20, choices=RegistrationStatus.choices
    )
    industry_code = models.CharField(_("industry code"), max_length=5, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="enterprises",
        db_index=False,  # enterprise_region_idx serves = and LIKE 'prefix%' alike
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    size = models.CharField(_("size"), max_length=10, choices=EnterpriseSize.choices, blank=True)
    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("last import batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # only read forwards (provenance); see ENTERPRISE_INDEX_NOTE
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RestrictedManager()

    # ENTERPRISE_INDEX_NOTE: every index costs each imported row a write, so the table keeps
    # only those a query uses: the primary key, the unique USCC (exact search, import keys)
    # and the region prefix (scoping). Name search is a substring match, which a b-tree
    # cannot serve; migration 0003 also drops the pattern index PostgreSQL gets for the
    # unique USCC, which no LIKE query uses.

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["uscc"]
        indexes = [
            # Region scoping: WHERE region_id LIKE '330302%' (pattern ops so LIKE can use it).
            models.Index(
                fields=["region"], name="enterprise_region_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        return self.name

    @classmethod
    def scope_q(cls, scope):
        return enterprise_scope_q(scope)

    @property
    def industry_section(self):
        """GB/T 4754 section letter (A–T), when the code carries it."""
        return self.industry_code[:1] if self.industry_code[:1].isalpha() else ""


class EnterpriseRecord(models.Model):
    """Common parts of the data other departments report about an enterprise."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="+"
    )
    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("import batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RestrictedManager()

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, scope):
        return enterprise_scope_q(scope, "enterprise__")


class CensusRecord(EnterpriseRecord):
    """An enterprise's entry in an economic census active-entity list (统计)."""

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="census_records",
    )
    census_year = models.PositiveSmallIntegerField(_("census year"))
    is_active = models.BooleanField(_("active"), default=True)
    revenue = models.DecimalField(_("revenue (10k yuan)"), **AMOUNT, null=True, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)

    class Meta:
        verbose_name = _("census record")
        verbose_name_plural = _("census records")
        ordering = ["enterprise", "-census_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "census_year"], name="census_one_per_enterprise_year"
            ),
        ]

    def __str__(self):
        return f"{self.enterprise_id} · {self.census_year}"


class TaxRecord(EnterpriseRecord):
    """An enterprise's tax credit rating and tax figures for one year (税务)."""

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="tax_records",
    )
    tax_year = models.PositiveSmallIntegerField(_("tax year"))
    credit_rating = models.CharField(
        _("tax credit rating"), max_length=1, choices=TaxCreditRating.choices
    )
    tax_paid = models.DecimalField(_("tax paid (10k yuan)"), **AMOUNT, null=True, blank=True)
    export_rebate = models.DecimalField(
        _("export rebate (10k yuan)"), **AMOUNT, null=True, blank=True
    )
    taxable_sales = models.DecimalField(
        _("taxable sales (10k yuan)"), **AMOUNT, null=True, blank=True
    )

    class Meta:
        verbose_name = _("tax record")
        verbose_name_plural = _("tax records")
        ordering = ["enterprise", "-tax_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "tax_year"], name="tax_one_per_enterprise_year"
            ),
        ]

    def __str__(self):
        return f"{self.enterprise_id} · {self.tax_year} · {self.credit_rating}"


class NegativeListEntry(EnterpriseRecord):
    """An entry on a negative list (dishonest, abnormal, zombie, shell …), with its removal."""

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="negative_entries",
    )
    list_type = models.CharField(_("list type"), max_length=20, choices=NegativeListType.choices)
    listed_on = models.DateField(_("listed on"))
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    source = models.CharField(_("source department"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("negative-list entry")
        verbose_name_plural = _("negative-list entries")
        ordering = ["enterprise", "-listed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "list_type", "listed_on"], name="negative_one_per_listing"
            ),
        ]

    def __str__(self):
        return f"{self.enterprise_id} · {self.get_list_type_display()} · {self.listed_on}"

    def in_force_on(self, day):
        return self.listed_on <= day and (self.removed_on is None or self.removed_on > day)


class ImportRowError(models.Model):
    """One problem with one row of an import batch (Excel row number, column, value, reason)."""

    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("import batch"), on_delete=models.CASCADE, related_name="errors"
    )
    row_number = models.PositiveIntegerField(_("row"), help_text=_("As in Excel: header = 1."))
    column = models.CharField(_("column"), max_length=100, blank=True)
    value = models.CharField(_("value"), max_length=500, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    # The reason in every language of the site (core/i18n.py); ``reason`` is the default's.
    reason_translations = models.JSONField(_("reason, translated"), default=dict, blank=True)
    is_warning = models.BooleanField(_("warning only"), default=False)

    class Meta:
        verbose_name = _("import row error")
        verbose_name_plural = _("import row errors")
        # The error report lists a batch's errors by row: WHERE batch_id = x ORDER BY row_number.
        ordering = ["batch", "row_number", "id"]
        indexes = [models.Index(fields=["batch", "row_number"], name="import_error_batch_row_idx")]

    def __str__(self):
        return f"{self.batch_id}:{self.row_number} {self.column} {self.reason}"

    @property
    def reason_text(self):
        """The reason in the reader's language."""
        return localized(self.reason, self.reason_translations)
