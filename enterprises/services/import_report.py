"""The error report of an import batch as .xlsx: the original rows plus an error column."""

from collections import defaultdict
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..importing.readers import FileRejected, open_rows
from .privacy import import_value_masker

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Cells starting with = + - @ are formulas to Excel: prefix a quote (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def safe_cell(value):
    """A value openpyxl can write and Excel reads as plain text or a number.

    Control characters (NUL and the like) are not allowed in .xlsx: each becomes U+FFFD, so
    the uploader still sees where the bad byte was. Formulas are neutralised after that, so a
    value like "\\x00=cmd" cannot turn into a formula either.
    """
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
    return neutralise(text)


def write_error_report(batch, out, user):
    """Write the report to the file-like ``out``, as ``user`` may read it (personal columns
    masked without the personal-data right)."""
    mask = import_value_masker(batch.kind, user)
    reasons = defaultdict(list)
    for error in batch.errors.all().iterator(chunk_size=5000):
        label = f"[{error.column}] {error.reason_text}" if error.column else error.reason_text
        reasons[error.row_number].append(label)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Errors"))
    written = False
    if batch.stored_file and Path(batch.stored_file).exists():
        try:
            rows = open_rows(batch.stored_file, batch.file_name)
            header = [_cell(v) for v in next(rows, [])]
            sheet.append([_("Row"), *[safe_cell(v) for v in header], safe_cell(_("Errors"))])
            for row_no, row in enumerate(rows, start=2):
                if row_no in reasons:
                    values = [
                        safe_cell(mask(header[i] if i < len(header) else None, _cell(v)))
                        for i, v in enumerate(row)
                    ]
                    sheet.append([row_no, *values, safe_cell("；".join(reasons[row_no]))])
            written = True
        except FileRejected:
            written = False
    if not written:
        # The original file is gone (deleted after IMPORT_KEEP_UPLOADS_DAYS, or unreadable).
        sheet.append([_("Row"), _("Column"), _("Value"), _("Errors")])
        for error in batch.errors.all().iterator(chunk_size=5000):
            sheet.append(
                [
                    error.row_number,
                    safe_cell(error.column),
                    safe_cell(mask(error.column, error.value)),
                    safe_cell(error.reason_text),
                ]
            )
    workbook.save(out)


def _cell(value):
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)
