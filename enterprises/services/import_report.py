"""The error report of an import batch as .xlsx: the original rows plus an error column."""

from collections import defaultdict
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl import Workbook

from ..importing.readers import FileRejected, open_rows

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Cells starting with = + - @ are formulas to Excel: prefix a quote (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_error_report(batch, out):
    """Write the report to the file-like ``out``."""
    reasons = defaultdict(list)
    for error in batch.errors.all().iterator(chunk_size=5000):
        label = f"[{error.column}] {error.reason}" if error.column else str(error.reason)
        reasons[error.row_number].append(label)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Errors"))
    written = False
    if batch.stored_file and Path(batch.stored_file).exists():
        try:
            rows = open_rows(batch.stored_file, batch.file_name)
            header = next(rows, [])
            sheet.append([_("Row"), *[neutralise(_cell(v)) for v in header], _("Errors")])
            for row_no, row in enumerate(rows, start=2):
                if row_no in reasons:
                    values = [neutralise(_cell(v)) for v in row]
                    sheet.append([row_no, *values, neutralise("；".join(reasons[row_no]))])
            written = True
        except FileRejected:
            written = False
    if not written:
        # The original file is gone (deleted after IMPORT_KEEP_UPLOADS_DAYS, or unreadable).
        sheet.append([_("Row"), _("Column"), _("Value"), _("Errors")])
        for error in batch.errors.all().iterator(chunk_size=5000):
            sheet.append(
                [error.row_number, error.column, neutralise(error.value), neutralise(error.reason)]
            )
    workbook.save(out)


def _cell(value):
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)
