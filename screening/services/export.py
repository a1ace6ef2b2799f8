"""List export to .xlsx (openpyxl write-only: constant memory whatever the size)."""

import tempfile

from django.utils.translation import gettext as _
from openpyxl import Workbook

from ..reasons import describe, own_reasons

# A cell starting with one of these would be read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def membership_rows(queryset):
    yield [
        _("USCC"),
        _("Name"),
        _("Entity type"),
        _("Region"),
        _("Size"),
        _("Tax credit rating"),
        _("Lending banks"),
        _("Tier"),
        _("Batch"),
        _("Score"),
        _("Reasons"),
    ]
    rows = queryset.select_related("enterprise__region").order_by("tier", "batch_no", "pk")
    for m in rows.iterator(chunk_size=5000):
        e = m.enterprise
        yield [
            e.uscc,
            e.name,
            e.get_entity_type_display(),
            e.region.name,
            e.get_size_display(),
            m.rating,
            m.bank_count,
            m.tier,
            m.batch_no,
            m.score,
            "；".join(describe(own_reasons(m))),
        ]


def write_xlsx(rows, title):
    """Write rows to a temporary .xlsx file and return the open file (caller streams it)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for row in rows:
        sheet.append([safe(v) for v in row])
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
    workbook.save(handle)
    handle.seek(0)
    return handle
