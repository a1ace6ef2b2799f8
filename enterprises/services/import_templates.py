"""Help for uploading: the columns of each import kind, and a template .xlsx per kind.

Everything is read from ``enterprises.importing.specs.SPECS`` (the data contract of
docs/import-formats.md), through the columns' public attributes only, so a kind added to the
contract gets its column list and its template without code here.

The template's first sheet is importable as it is: the contract's headers (required ones in
bold red, with a note), then one example row that passes a trial import for the user who
downloaded it (it names a region, an enterprise and a bank of that user's own data). The
instructions are on a second sheet, which the importer never reads.
"""

from datetime import date
from decimal import Decimal

from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from stdnum.cn import uscc as stdnum_uscc

from ..choices import ImportKind, RegionLevel
from ..importing.specs import SPECS
from ..models import Enterprise, Region

TYPE_LABELS = {
    "date": gettext_lazy("Date, e.g. 2025-06-30"),
    "numeric": gettext_lazy("Number"),
    "integer": gettext_lazy("Whole number"),
    "boolean": gettext_lazy("Yes or no (是 / 否)"),
    "text": gettext_lazy("Text"),
}

# Example values by the column's field; a field not listed gets one by its type.
EXAMPLES = {
    "entity_type": "企业",
    "legal_rep": "张三",
    "phone": "0577-63000000",
    "established_on": date(2020, 1, 15),
    "registered_capital": Decimal("100"),
    "status": "存续",
    "industry_code": "C3429",
    "address": "示例路 1 号",
    "employees": 12,
    "size": "小型",
    "census_year": 2023,
    "is_active": "是",
    "revenue": Decimal("520.5"),
    "tax_year": 2024,
    "credit_rating": "A",
    "tax_paid": Decimal("12.3"),
    "export_rebate": Decimal("0"),
    "taxable_sales": Decimal("300"),
    "as_of": date(2025, 6, 30),
    "credit_limit": Decimal("200"),
    "loan_balance": Decimal("150"),
    "first_loan_date": date(2023, 3, 1),
    "list_type": "经营异常名录",
    "listed_on": date(2025, 1, 15),
    "source": "市场监管局",
    "note": "示例",
    "loan_no": "EXAMPLE-0001",
    "disbursed_on": date(2025, 1, 15),
    "matures_on": date(2026, 1, 14),
    "amount": Decimal("100"),
    "balance": Decimal("100"),
    "product": "流动资金贷款",
    "guarantee": "信用",
    "rate": Decimal("3.45"),
    "is_renewal": "否",
    "level": "支行",
    "capacity": 20,
}
# Left empty: they only make sense together with other data (a removal, a renewed loan, a
# declined credit).
EMPTY = {"removed_on", "renews_loan_no", "decline_reason"}
BY_TYPE = {
    "date": date(2025, 1, 15),
    "numeric": Decimal("100"),
    "integer": 12,
    "boolean": "否",
    "text": "示例",
}
NEW_BANK_CODE = "EXAMPLE-BANK"


def spec_for(kind):
    """The spec of ``kind``, or None for a kind the contract does not have."""
    return SPECS.get(kind)


def allowed_values(column):
    """The labels a choice column accepts (empty for a free column)."""
    lookup = getattr(column.convert, "lookup", None) or {}
    labels = [key for key, slug in lookup.items() if key != str(slug).lower()]
    return labels or list(dict.fromkeys(str(slug) for slug in lookup.values()))


def column_rows(kind):
    """[{header, alias, required, type, allowed}] of the columns of ``kind``, in file order."""
    rows = []
    for column in spec_for(kind).columns:
        kind_of = TYPE_LABELS.get(column.sql_type, TYPE_LABELS["text"])
        if column.amount:
            kind_of = gettext_lazy("Amount in 10k yuan (万元)")
        rows.append(
            {
                "header": column.cn,
                "alias": column.alias,
                "required": column.required,
                "type": kind_of,
                "allowed": allowed_values(column),
            }
        )
    return rows


class _Scope:
    """The user's own region, enterprise and bank that the example row refers to (lazily)."""

    def __init__(self, user):
        self.user = user
        self._cache = {}

    def _once(self, key, load):
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    @property
    def township(self):
        # The region table is readable by all; the import takes rows inside the region prefix.
        def load():
            townships = Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("code")
            scope = self.user.scope
            if not scope.everything and scope.region_prefix:
                townships = townships.filter(code__startswith=scope.region_prefix)
            return townships.values_list("code", flat=True).first()

        return self._once("township", load)

    @property
    def enterprise(self):
        return self._once(
            "enterprise",
            lambda: (
                Enterprise.objects.restrict(self.user).order_by("pk").only("uscc", "name").first()
            ),
        )

    @property
    def bank_code(self):
        # The import checks bank codes against the bank table (any bank, not only in scope).
        bank = apps.get_model("banks", "Bank")
        return self._once(
            "bank", lambda: bank.objects.order_by("code").values_list("code", flat=True).first()
        )

    @property
    def assignment(self):
        """(USCC, bank code) of a bank assignment the user sees: a feedback row must name a
        bank that was assigned the enterprise."""

        def load():
            model = apps.get_model("banks", "BankAssignment")
            return (
                model.objects.restrict(self.user, "import")
                .order_by("pk")
                .values_list("enterprise__uscc", "bank_id")
                .first()
            )

        return self._once("assignment", load)

    def new_uscc(self):
        county = (self.township or "330000")[:6]
        body = f"91{county}MA0000001"
        return body + stdnum_uscc.calc_check_digit(body)


def _example(column, kind, scope):
    field = column.field
    if field in EMPTY:
        return None
    if kind == ImportKind.FEEDBACK and field in ("uscc", "bank_code") and scope.assignment:
        return scope.assignment[0] if field == "uscc" else scope.assignment[1]
    if field == "uscc":
        if kind != ImportKind.REGISTRY and scope.enterprise is not None:
            return scope.enterprise.uscc
        return scope.new_uscc()
    if field == "name":
        if kind == ImportKind.REGISTRY:
            return "示例科技有限公司"
        if kind == ImportKind.BANKS:
            return "示例银行示例支行"
        return scope.enterprise.name if scope.enterprise is not None else "示例科技有限公司"
    if field == "region_code":
        return scope.township
    if field == "service_regions":
        return scope.township[:6] if scope.township else None
    if field == "bank_code":
        return NEW_BANK_CODE if kind == ImportKind.BANKS else scope.bank_code
    if field == "parent_code":
        return scope.bank_code
    if field in EXAMPLES:
        return EXAMPLES[field]
    choices = allowed_values(column)
    if choices:
        return choices[0]
    return BY_TYPE.get(column.sql_type, BY_TYPE["text"])


def example_row(kind, user):
    """One row of values for the columns of ``kind`` that passes a trial import for ``user``."""
    scope = _Scope(user)
    row = []
    for column in spec_for(kind).columns:
        value = _example(column, kind, scope)
        try:
            column.convert(value)
        except Exception:
            # A value this column refuses: leave it empty rather than ship a failing row.
            value = None
        row.append(value)
    return row


def write_template(kind, user, out):
    """Write the template .xlsx of ``kind`` (for ``user``'s example row) to ``out``."""
    spec = spec_for(kind)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(ImportKind(kind).label)[:31] if kind in ImportKind.values else kind
    required_font = Font(bold=True, color="C00000")
    sheet.append([column.cn for column in spec.columns])
    for index, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=1, column=index)
        if column.required:
            cell.font = required_font
            cell.comment = Comment(_("Required"), "Rongxie")
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = max(12, 2 * len(column.cn) + 4)
        if column.sql_type == "text":
            # Typed codes stay text in Excel: no 9.13E+17 for a USCC, no lost leading zeros.
            dimension.number_format = "@"
    sheet.append(example_row(kind, user))
    for index, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=2, column=index)
        if column.sql_type == "date":
            cell.number_format = "yyyy-mm-dd"
        elif column.sql_type == "text":
            cell.number_format = "@"
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet(_("Instructions")[:31])
    notes.append([_("Fill in the first sheet: one row per record under the header row.")])
    notes.append([_("Replace or delete the example row (row 2) before you import.")])
    notes.append([_("Columns in bold red are required; the others may stay empty.")])
    notes.append([])
    notes.append([_("Column"), _("English alias"), _("Required"), _("Type"), _("Allowed values")])
    for cell in notes[5]:
        cell.font = Font(bold=True)
    for row in column_rows(kind):
        notes.append(
            [
                row["header"],
                row["alias"],
                _("Yes") if row["required"] else _("No"),
                str(row["type"]),
                " / ".join(row["allowed"]),
            ]
        )
    for letter, width in zip("ABCDE", (24, 22, 8, 28, 60), strict=True):
        notes.column_dimensions[letter].width = width
    workbook.save(out)
