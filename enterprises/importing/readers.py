"""Streaming readers: CSV (UTF-8, UTF-8 BOM, GB18030) and .xlsx (python-calamine, bomb-checked).

``open_rows(path)`` returns an iterator of rows (lists of raw cell values); the first row is
the header. Nothing reads the whole file into memory.
"""

import codecs
import csv
import zipfile
from pathlib import Path

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class FileRejected(Exception):
    """The file as a whole cannot be imported; the message is for the user."""

    def __init__(self, message, reason="file"):
        super().__init__(str(message))
        self.message = message
        self.reason = reason  # a choices.RejectionReason value


# .xlsx safety limits: an honest sheet compresses maybe 10-20×; a zip bomb far more.
XLSX_MAX_UNCOMPRESSED = 2 * 1024**3
XLSX_MAX_RATIO = 200
_SNIFF_BYTES = 1 << 20
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CONTROL_BYTES = [bytes([b]) for b in (*range(9), 11, 12, *range(14, 32))]


def detect_encoding(path):
    """utf-8-sig for a BOM, utf-8 when the head decodes as UTF-8, else gb18030 (Chinese Excel)."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < _SNIFF_BYTES)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


# The one rule of what may be imported, shared by the UI form, the API and the engine.
ALLOWED_SUFFIXES = (".csv", ".xlsx")
_XLSX_MAGIC = b"PK\x03\x04"


def file_type(name):
    """Return "csv" or "xlsx" from a file name; FileRejected for any other extension."""
    suffix = Path(str(name or "")).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise FileRejected(
            format_lazy(
                _("Unsupported file type {suffix}: use .xlsx or .csv."),
                suffix=suffix or _("(no extension)"),
            )
        )
    return suffix[1:]


def check_head(kind, head):
    """Refuse content that cannot be the ``kind`` ("csv"/"xlsx") it claims (first bytes).

    UTF-16/32 (Excel's "Unicode text") and binary files are full of NUL and other control
    bytes, which no text column can store; they are refused as a whole, before anything is
    staged. A stray NUL in a row of a text file is that row's error instead.
    """
    if kind == "xlsx":
        if not head.startswith(_XLSX_MAGIC):
            raise FileRejected(_("The file is not a valid .xlsx workbook."))
        return
    if head.startswith(_WIDE_BOMS):
        raise FileRejected(
            _(
                "The file is in UTF-16 (Unicode text), which is not supported: save it as "
                "CSV UTF-8 or as .xlsx and upload it again."
            )
        )
    controls = sum(head.count(byte) for byte in _CONTROL_BYTES)
    if head.startswith(_XLSX_MAGIC) or controls * 100 > len(head):
        raise FileRejected(
            _(
                "The file is not a text CSV file (it contains binary data): save it as "
                "CSV UTF-8 or as .xlsx and upload it again."
            )
        )


def check_file(path, name=None):
    """file_type + check_head for a stored file; returns "csv" or "xlsx"."""
    kind = file_type(name or path)
    with open(path, "rb") as fh:
        check_head(kind, fh.read(_SNIFF_BYTES))
    return kind


def iter_csv(path):
    check_file(path, "file.csv")
    encoding = detect_encoding(path)
    # errors="replace": a stray bad byte becomes U+FFFD in one cell, never a crash.
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(8192)
        fh.seek(0)
        delimiter = ","
        first_line = sample.split("\n", 1)[0]
        if first_line.count("\t") > first_line.count(",") or (
            first_line.count(";") > first_line.count(",") and "；" not in first_line
        ):
            delimiter = "\t" if first_line.count("\t") > first_line.count(";") else ";"
        yield from csv.reader(fh, delimiter=delimiter)


def check_xlsx(path):
    """Refuse zip bombs (by declared sizes) and XML entity declarations before parsing."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise FileRejected(_("The file is not a valid .xlsx workbook.")) from None
    with archive:
        total = 0
        for info in archive.infolist():
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 10 * 1024**2 and ratio > XLSX_MAX_RATIO:
                raise FileRejected(_("The workbook looks like a zip bomb; refused."))
        if total > XLSX_MAX_UNCOMPRESSED:
            raise FileRejected(_("The workbook is too large when unpacked; refused."))
        for info in archive.infolist():
            if not info.filename.endswith((".xml", ".rels")):
                continue
            with archive.open(info) as member:
                head = member.read(4096)
            if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                raise FileRejected(
                    _("The workbook declares XML entities (possible entity bomb); refused.")
                )


def iter_xlsx(path):
    from python_calamine import CalamineWorkbook

    check_xlsx(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except Exception as exc:  # calamine raises its own error types for broken files
        raise FileRejected(
            format_lazy(_("The workbook cannot be read: {error}"), error=str(exc)[:200])
        ) from None
    for row in rows:
        yield list(row)


def open_rows(path, file_name=None):
    if check_file(path, file_name) == "xlsx":
        return iter_xlsx(path)
    return iter_csv(path)
