"""PostgreSQL fast path: COPY the raw cell text, then normalise and check it set-based in SQL.

Per-cell conversion in Python costs 20-35 µs a row; in SQL the same work is a few µs. So on
PostgreSQL a registry file goes like this:

1. the raw text of every cell is COPYed into a table of text columns with the Excel row number
   (a CSV file's bytes are streamed as they are, after its header line has been read in Python;
   .xlsx rows are read with calamine and written as text); the table is UNLOGGED so parallel
   workers can scan it, and lives only inside the import's transaction;
2. one ``CREATE TEMP TABLE … AS SELECT`` cleans the cells (trim incl. U+3000, full-width →
   half-width, only where needed) and converts the *common, well-formed* forms of every value
   (dates in the contract's forms and Excel serials, plain or thousands-separated numbers,
   元 → 万元, choice labels, upper-case USCCs with their check digit) into the typed staging
   table of the Python path;
3. a row where any cell is not such a common form, or a required cell is empty, is marked
   ``bad`` and goes through the Python converters (``normalise.py``) — so the rare forms, and
   every row error's reason, come from the one implementation both paths share;
4. duplicate keys (window function) and the registry's row checks (region known and in the
   uploader's region, entity type derived from the USCC) are SQL.

The SQL never accepts a value the Python converters would reject or read differently: it only
recognises a strict subset of what they accept, and everything else falls to Python. A file the
fast path cannot take at all (bytes invalid in the detected encoding, ragged rows, stray quotes
that PostgreSQL's CSV parser reads differently from Python's, bare-CR line ends, unusual .xlsx
cells) raises
``Unavailable`` before anything is recorded; the caller rolls back to a savepoint and uses the
Python path.
"""

import codecs
import csv
import logging
import operator
import re
from datetime import date, datetime

import psycopg
from django.db import DatabaseError, connection
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from ..choices import ENTITY_TYPE_BY_USCC_PREFIX, EntityType, ImportKind
from . import normalise as n
from .readers import FileRejected, detect_encoding, iter_xlsx

logger = logging.getLogger(__name__)

# The cells' text as in the file: an UNLOGGED table, not a temporary one, because parallel
# workers cannot read temporary tables; created and dropped inside the import's transaction
# (so no other session ever sees it), one name per batch (so imports do not wait on each other).
RAW = "rongxie_import_raw"
STAGE = "rongxie_import_stage"  # the typed rows, shared with the Python path (temporary)

# Kinds whose converters and row checks all have an SQL form here.
KINDS = {ImportKind.REGISTRY}


class Unavailable(Exception):
    """The file cannot take the fast path; the caller uses the Python path instead."""


def supports(spec):
    return spec.kind in KINDS and spec.sql_check is not None and connection.vendor == "postgresql"


# --- SQL building blocks --------------------------------------------------------------------

# Full-width ASCII (U+FF01–U+FF5E) and U+3000 → half-width, as normalise._FULLWIDTH.
_FW_FROM = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_FW_TO = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "
# Exactly the characters Python's str.strip() removes.
_SPACES = "".join(c for c in map(chr, range(0x110000)) if c.isspace())

USCC_ALPHABET = n.USCC_ALPHABET
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_INVALID = 100_000  # weight sum ≥ this ⇔ some character is not allowed at its position


def _byte_table(allowed, invalid):
    """An int[] indexed 0..255 by byte: the USCC value of an allowed character, else ``invalid``.

    No NULLs: subscripting an array with a null bitmap is a linear scan.
    """
    values = [invalid] * 256
    for char in allowed:
        values[ord(char)] = USCC_ALPHABET.index(char)
    return "'[0:255]={" + ",".join(map(str, values)) + "}'::int[]"


_DIGIT_TABLE = _byte_table("0123456789", _INVALID)
_CHAR_TABLE = _byte_table(USCC_ALPHABET, _INVALID)
_CHECK_TABLE = _byte_table(USCC_ALPHABET, 99)  # never equal to a check value 0-30


def uscc_weight_sum_sql(b):
    """SQL: the weighted sum of the first 17 characters of the bytea ``b`` (18 bytes).

    ≥ 100000 when a character is not allowed (positions 1-8 digits, 9-17 the USCC alphabet)."""
    terms = []
    for position, weight in enumerate(_USCC_WEIGHTS):
        table = _DIGIT_TABLE if position < 8 else _CHAR_TABLE
        terms.append(f"{weight} * ({table})[get_byte({b}, {position})]")
    return " + ".join(terms)


def uscc_check_value_sql(b):
    """SQL: the value of the 18th character of ``b`` (99 when not in the alphabet)."""
    return f"({_CHECK_TABLE})[get_byte({b}, 17)]"


def uscc_ok_sql(total, check):
    """SQL: GB 32100-2015 check, from the two expressions above (NULL-safe: NULL → NULL)."""
    return f"({total} < {_INVALID} AND mod(31 - mod({total}, 31), 31) = {check})"


def uscc_is_valid_sql(text_expr):
    """One SQL boolean expression: is ``text_expr`` a valid, clean, upper-case USCC?

    The same test as ``normalise.uscc_is_valid`` (property-tested against python-stdnum);
    the importer uses the parts above so that each is computed once per row.
    """
    b = f"convert_to({text_expr}, 'UTF8')"
    check = uscc_ok_sql(f"({uscc_weight_sum_sql(b)})", uscc_check_value_sql(b))
    # CASE, not AND: get_byte() past the end raises, and AND may evaluate in any order.
    return f"CASE WHEN octet_length({b}) = 18 THEN {check} ELSE false END"


def _lit(text):
    return "'" + str(text).replace("'", "''") + "'"


def _valid_date(y, m, d):
    """SQL: make_date(y, m, d) when that is a real date, else NULL (make_date would raise)."""
    days = (
        f"CASE WHEN {m} IN (4, 6, 9, 11) THEN 30 WHEN {m} = 2 THEN "
        f"CASE WHEN mod({y}, 4) = 0 AND (mod({y}, 100) <> 0 OR mod({y}, 400) = 0) "
        "THEN 29 ELSE 28 END ELSE 31 END"
    )
    return (
        f"CASE WHEN {y} >= 1 AND {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND ({days}) "
        f"THEN make_date({y}, {m}, {d}) END"
    )


# normalise._DATE_RE with ASCII digits and spaces only (anything else goes to Python).
_DATE_FORM = "^([0-9]{4}) *[-/.年] *([0-9]{1,2}) *[-/.月] *([0-9]{1,2}) *日?$"
_NUMBER_FORM = "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)$"


class _Cell:
    """How one mapped column becomes SQL.

    ``steps()``: helper values in successive layers, each computed once per row from the
    layer before (layer 1 is the cleaned text ``v<i>``); ``typed()``: the typed value from
    them, NULL when the cell is empty or not a form SQL recognises.
    """

    def __init__(self, index, column, convert):
        self.i = index
        self.column = column
        self.convert = convert
        self.v = f"v{index}"
        self.kind = _converter_kind(convert)

    @property
    def keep(self):
        """Names from steps() that typed() reads."""
        i = self.i
        return {
            "uscc": [f"s{i}", f"k{i}"],
            "date": [f"t{i}", f"g{i}", f"y{i}", f"m{i}", f"d{i}"],
            "amount": [f"n{i}"],
            "count": [f"t{i}"],
        }.get(self.kind, [])

    def steps(self):
        v, i = self.v, self.i
        if self.kind == "uscc":
            b = f"b{i}"
            return [
                [(b, f"CASE WHEN octet_length({v}) = 18 THEN convert_to({v}, 'UTF8') END")],
                [(f"s{i}", uscc_weight_sum_sql(b)), (f"k{i}", uscc_check_value_sql(b))],
            ]
        if self.kind == "date":
            t, g = f"t{i}", f"g{i}"
            # As to_date: "2025-06-30 00:00:00" (a datetime's text) is read as its first ten.
            truncated = (
                f"CASE WHEN length({v}) > 10 AND substr({v}, 11, 1) IN (' ', 'T') "
                f"THEN left({v}, 10) ELSE {v} END"
            )
            # Every form as 'Y-M-D': ISO, the contract's other forms, and 8 digits (20250630);
            # 1-5 digits (typed value) are an Excel serial.
            ymd = (
                f"CASE WHEN {t} ~ '^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$' THEN {t} "
                f"WHEN {t} ~ '^[0-9]+$' THEN CASE WHEN length({t}) = 8 THEN "
                f"substr({t}, 1, 4) || '-' || substr({t}, 5, 2) || '-' || substr({t}, 7, 2) END "
                f"WHEN {t} ~ {_lit(_DATE_FORM)} "
                f"THEN regexp_replace({t}, {_lit(_DATE_FORM)}, '\\1-\\2-\\3') END"
            )
            return [
                [(t, truncated)],
                [(g, ymd)],
                [
                    (f"{name}{i}", f"split_part({g}, '-', {k})::integer")
                    for k, name in ((1, "y"), (2, "m"), (3, "d"))
                ],
            ]
        if self.kind == "amount":
            t = f"t{i}"
            # (A cast in THEN only: CASE decides the order. 100 digits: any amount too large
            # is still one; numeric's own limit would raise.)
            number = (
                f"CASE WHEN length({t}) <= 100 AND {t} ~ {_lit(_NUMBER_FORM)} THEN {t}::numeric END"
            )
            return [[(t, f"replace({v}, ',', '')")], [(f"n{i}", number)]]
        if self.kind == "count":
            return [[(f"t{i}", f"replace({v}, ',', '')")]]
        return []

    def typed(self):
        v, i, convert, kind = self.v, self.i, self.convert, self.kind
        if kind == "uscc":
            return f"CASE WHEN {uscc_ok_sql(f's{i}', f'k{i}')} THEN {v} END"
        if kind == "text":
            # octet_length is cheaper and, when within the limit, decides it.
            n_max = convert.max_length
            return f"CASE WHEN octet_length({v}) <= {n_max} OR char_length({v}) <= {n_max} THEN {v} END"
        if kind == "choice":
            # The keys are lower case already: an exact match needs no lower(). Otherwise
            # lower() only ASCII text: for some other letters PostgreSQL's lower() and
            # Python's differ (İ → i vs i̇), and Python must decide those.
            whens = " ".join(
                f"WHEN {_lit(key)} THEN {_lit(slug)}" for key, slug in convert.lookup.items()
            )
            return (
                f"CASE {v} {whens} ELSE CASE WHEN octet_length({v}) = char_length({v}) "
                f"THEN CASE lower({v}) {whens} END END END"
            )
        if kind == "date":
            y, m, d = f"y{i}", f"m{i}", f"d{i}"
            return (
                f"CASE WHEN g{i} IS NOT NULL THEN {_valid_date(y, m, d)} "
                f"WHEN t{i} ~ '^[0-9]+$' AND length(t{i}) <= 5 THEN CASE WHEN t{i}::integer >= 1 "
                f"THEN date '1899-12-30' + t{i}::integer END END"
            )
        if kind == "amount":
            number = f"n{i}"
            checks = [f"abs({number}) < 1e14"]
            if convert is n.to_non_negative_amount:
                checks.append(f"{number} >= 0")
            value = f"{number} * 0.0001" if convert is n.to_yuan_amount else number
            return f"CASE WHEN {' AND '.join(checks)} THEN {value} END"
        if kind == "count":
            t = f"t{i}"
            return f"CASE WHEN {t} ~ '^[0-9]+$' AND length({t}) <= 9 THEN {t}::integer END"
        if kind == "region":
            # 6-, 9- or 12-digit code; a 12-digit (village) code means its township.
            return f"CASE WHEN {v} ~ '^[0-9]+$' AND length({v}) IN (6, 9, 12) THEN left({v}, 9) END"
        if kind == "industry":
            form = (
                f"CASE length({v}) WHEN 5 THEN {v} ~ '^[A-Za-z][0-9]+$' "
                f"WHEN 1 THEN {v} ~ '^[A-Za-z]$' "
                f"ELSE length({v}) BETWEEN 2 AND 4 AND {v} ~ '^[0-9]+$' END"
            )
            return f"CASE WHEN {form} THEN upper({v}) END"
        raise AssertionError(kind)


def _converter_kind(convert):
    kinds = {
        n.to_uscc: "uscc",
        n.to_date: "date",
        n.to_amount: "amount",
        n.to_non_negative_amount: "amount",
        n.to_yuan_amount: "amount",
        n.to_count: "count",
        n.region_code: "region",
        n.industry_code: "industry",
    }
    if convert in kinds:
        return kinds[convert]
    if hasattr(convert, "max_length"):
        return "text"
    if hasattr(convert, "lookup"):
        return "choice"
    raise Unavailable(f"no SQL form for {convert!r}")


def _clean_sql(expr):
    """SQL: normalise.clean_text for text: half-width, trimmed, '' → NULL.

    translate() looks every character up in its from-list (~5 µs for a 15-character name
    against all 95 full-width characters); the full-width characters in real names are
    nearly always just （ ） and U+3000, for which a three-character list does the same.
    """
    full = f"translate({expr}, %(fw_from)s, %(fw_to)s)"
    brackets = f"translate({expr}, '（）\u3000', '() ')"
    half = f"CASE WHEN {expr} ~ %(other_full_width)s THEN {full} ELSE {brackets} END"
    return f"NULLIF(btrim({half}, %(spaces)s), '')"


# translate() and a btrim() with a long multibyte set are slow (~2 µs a cell) and almost no
# cell needs them: one regex over the whole row (cells joined by U+0001) says which rows do.
_ROW_SEPARATOR = "\x01"
# A row needs cleaning when a cell starts or ends with white space, or has any full-width
# character or U+3000 (which becomes a space even inside a cell).
_EDGE_SPACE = f"(^|{_ROW_SEPARATOR})[{_SPACES}]|[{_SPACES}]($|{_ROW_SEPARATOR})"
_ROW_NEEDS_CLEANING = _EDGE_SPACE + "|[\uff01-\uff5e\u3000]"
_CELL_NEEDS_CLEANING = f"^[{_SPACES}]|[{_SPACES}]$|[\uff01-\uff5e\u3000]"
_CLEAN_PARAMS = {
    "separator": _ROW_SEPARATOR,
    "row_needs_cleaning": _ROW_NEEDS_CLEANING,
    "cell_needs_cleaning": _CELL_NEEDS_CLEANING,
    "other_full_width": "[\uff01-\uff07\uff0a-\uff5e]",  # all but （ ）
    "fw_from": _FW_FROM,
    "fw_to": _FW_TO,
    "spaces": _SPACES,
}


# --- Loading the raw text ---------------------------------------------------------------------

_COPY_CHUNK = 1 << 20


def _csv_head(path):
    """(encoding for COPY, delimiter, header cells, byte offset of the first data row)."""
    encoding = detect_encoding(path)
    with open(path, "rb") as fh:
        line = fh.readline()
    offset = len(line)
    if b"\r" in line.rstrip(b"\r\n"):  # lines ending in a bare CR: Python's csv copes
        raise Unavailable("CR line ends")
    if encoding == "utf-8-sig":
        line = line[len(codecs.BOM_UTF8) :]
    try:
        text = line.decode("gb18030" if encoding == "gb18030" else "utf-8")
    except UnicodeDecodeError:
        raise Unavailable("header not in the detected encoding") from None
    text = text.rstrip("\r\n")
    if '"' in text and text.count('"') % 2:
        raise Unavailable("the header spans lines")
    # The same choice of delimiter as readers.iter_csv.
    delimiter = ","
    if text.count("\t") > text.count(",") or (
        text.count(";") > text.count(",") and "；" not in text
    ):
        delimiter = "\t" if text.count("\t") > text.count(";") else ";"
    header = next(csv.reader([text], delimiter=delimiter), [])
    pg_encoding = "GB18030" if encoding == "gb18030" else "UTF8"
    return pg_encoding, delimiter, header, offset


def _stray_quote_re(delimiter):
    # A quote inside an unquoted field: Python's csv keeps it, PostgreSQL opens a quoted
    # section there. Well-formed CSV only has quotes next to a delimiter, a line end or a quote.
    d = re.escape(delimiter.encode())
    return re.compile(rb"[^" + d + rb'\r\n"]"[^' + d + rb'\r\n"]')


def copy_csv(path, width, table):
    """COPY the data rows of a CSV into ``table`` (c0 … c{width-1}); Unavailable on odd files."""
    pg_encoding, delimiter, _header, offset = _csv_head(path)
    stray = _stray_quote_re(delimiter)
    columns = ", ".join(f"c{i}" for i in range(width))
    options = f"FORMAT csv, DELIMITER {_lit(delimiter)}, ENCODING {_lit(pg_encoding)}"
    tail = b"\n"
    try:
        with (
            open(path, "rb") as fh,
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN ({options})") as copy,
        ):
            fh.seek(offset)
            while chunk := fh.read(_COPY_CHUNK):
                probe = tail + chunk
                if b'"' in probe and stray.search(probe):
                    raise Unavailable("stray quote")
                if b"\n\\." in probe:  # a line "\." ends COPY data early
                    raise Unavailable("end-of-data marker")
                copy.write(chunk)
                tail = chunk[-2:]
    except (DatabaseError, psycopg.Error) as exc:  # bad bytes for the encoding, ragged rows …
        raise Unavailable(f"COPY refused the file: {exc}") from None


def _xlsx_cell(value, is_date):
    """An .xlsx cell as the text the converters read the same way as the cell itself."""
    cls = value.__class__
    if cls is str:
        return value or None
    if value is None:
        return None
    if cls is float or cls is int:
        if is_date:  # an Excel serial
            try:
                return n.to_date(value).isoformat()
            except n.RowError:
                raise Unavailable("bad serial date") from None
        if cls is float:
            return repr(int(value)) if value.is_integer() else repr(value)
        return repr(value)
    if cls is datetime:
        return value.date().isoformat() if is_date else str(value)
    if cls is date:
        return value.isoformat()
    raise Unavailable(f"unusual cell {cls.__name__}")  # bool, time, duration …


def copy_xlsx(rows, mapping, table, progress):
    """COPY the rows of an .xlsx (header already read) into ``table``."""
    indexes = [index for _h, _c, _conv, index in mapping]
    is_date = [convert is n.to_date for _h, _c, convert, _i in mapping]
    pick = operator.itemgetter(*indexes) if len(indexes) > 1 else lambda raw: (raw[indexes[0]],)
    last = max(indexes)
    columns = ", ".join(f"c{i}" for i in indexes)
    text_only = {str}
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} (row_no, {columns}) FROM STDIN") as copy,
    ):
        write = copy.write_row
        for row_no, raw in enumerate(rows, start=2):
            if not any(raw) and all(v is None or v == "" for v in raw):
                continue  # a blank row, as in the Python path
            if len(raw) <= last:
                raw = list(raw) + [None] * (last + 1 - len(raw))
            cells = pick(raw)
            if set(map(type, cells)) <= text_only:  # the common row: text as it is ('' = NULL)
                write((row_no, *cells))
            else:
                write((row_no, *[_xlsx_cell(c, d) for c, d in zip(cells, is_date, strict=True)]))
            if row_no % 20000 == 0:
                progress(row_no)


# --- The run ------------------------------------------------------------------------------------


def stage(run):
    """Fill the typed staging table of ``run`` (a pipeline._Run) from its file, in SQL.

    Raises ``Unavailable`` (before recording anything on ``run``) when the file cannot take the
    fast path. Afterwards ``run.errors``, ``run.failed``, ``run.staged`` and
    ``batch.rows_read`` are as the Python path would have left them.
    """
    path = run.batch.stored_file
    name = str(run.batch.file_name or path).lower()
    xlsx = name.endswith(".xlsx")
    if xlsx:
        rows = iter_xlsx(path)
        try:
            header = next(rows)
        except StopIteration:
            raise Unavailable("empty workbook") from None
    elif name.endswith(".csv"):
        header = _csv_head(path)[2]
        if not header:
            raise Unavailable("no header")
    else:
        raise Unavailable("not a CSV or .xlsx file")

    run.header_cells = header
    unknown_before = list(run.unknown_columns)
    mapping = run.map_header(header)
    try:
        _load(run, mapping, header, xlsx, rows if xlsx else None, path)
        try:
            _check(run, mapping, xlsx)
        except (DatabaseError, psycopg.Error) as exc:
            # Not expected (the SQL is written not to raise on any cell), but if it does, the
            # Python path still imports the file; nothing was recorded on ``run`` yet.
            logger.exception("import fast path failed")
            raise Unavailable(f"SQL conversion failed: {exc}") from None
    except Unavailable:
        run.unknown_columns[:] = unknown_before
        raise


def _raw_columns(mapping, header, xlsx):
    # A CSV's COPY fills every column of the file; .xlsx rows are written mapped columns only.
    return [index for _h, _c, _conv, index in mapping] if xlsx else list(range(len(header)))


def _load(run, mapping, header, xlsx, rows, path):
    for _h, _column, convert, _index in mapping:
        _converter_kind(convert)  # Unavailable when a converter has no SQL form
    raw_columns = _raw_columns(mapping, header, xlsx)
    run.raw_table = raw = f"{RAW}_{run.batch.pk}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE UNLOGGED TABLE {raw} (row_no integer GENERATED BY DEFAULT AS IDENTITY "
            f"(START WITH 2), {', '.join(f'c{i} text' for i in raw_columns)})"
        )
    if xlsx:
        copy_xlsx(rows, mapping, raw, lambda done: run.progress(done, done + 1, _("Reading rows")))
    else:
        copy_csv(path, len(header), raw)


def _check(run, mapping, xlsx):
    """After the raw COPY: convert, check; errors are recorded on ``run`` only at the end."""
    cells = [_Cell(index, column, convert) for _h, column, convert, index in mapping]
    raw_columns = _raw_columns(mapping, run.header_cells, xlsx)

    run.header_of = {c.field: h for h, c, _conv, _i in mapping}
    # The duplicate-key window and the upsert's joins over up to a million rows: in memory.
    run.sql("SET LOCAL work_mem = '64MB'")
    run.progress(0, 1, _("Reading rows"), force=True)  # per-row checks, as in the Python path
    read = _convert(run, cells, raw_columns, skip_blank=not xlsx)
    run.batch.rows_read = read
    if not read:
        raise FileRejected(_("The file has no data rows."))
    errors = []
    _python_rows(run, mapping, errors)
    run.sql(f"DROP TABLE {run.raw_table}")  # before commit: it never becomes visible
    _duplicates(run, errors)
    run.spec.sql_check(run, errors)
    errors.sort(key=lambda e: e[0])  # row order, as the Python path records them
    for row, column, value, reason in errors:
        run.error(row, column, value, reason)
    run.staged = run.sql(f"SELECT count(*) FROM {STAGE}")[0][0]


# Volatile and parallel safe: a subquery with it in its select list is never inlined.
_FENCE = "clock_timestamp() AS layer_fence"


def _convert(run, cells, raw_columns, skip_blank):
    """Create the typed stage from the raw table (layered CREATE TABLE … AS SELECT).

    Returns the non-blank row count. Each layer is a subquery with a volatile column
    (``_FENCE``) so that its values are computed once per row: the planner would otherwise
    copy the expressions into every reference to them. (``OFFSET 0`` does that too, but its
    LIMIT node keeps the layers above it out of the parallel workers.)
    """
    where = "true"
    if skip_blank:  # blank CSV rows (all columns, known or not); .xlsx ones are skipped when read
        where = "num_nonnulls(" + ", ".join(f"NULLIF(c{i}, '')" for i in raw_columns) + ") > 0"
    joined = f"concat_ws(%(separator)s, {', '.join(f'c{c.i}' for c in cells)})"
    query = (
        f"SELECT row_no, {', '.join(f'c{c.i}' for c in cells)}, "
        f"{joined} ~ %(row_needs_cleaning)s AS dirty, {_FENCE} FROM {run.raw_table} WHERE {where}"
    )
    names = ["row_no"] + [c.v for c in cells]
    # In a row that needs cleaning (typically one name with full-width brackets), only the
    # cells that need it pay for translate() and btrim().
    layer = ["row_no"] + [
        f"CASE WHEN dirty AND c{c.i} ~ %(cell_needs_cleaning)s THEN {_clean_sql(f'c{c.i}')} "
        f"ELSE NULLIF(c{c.i}, '') END AS {c.v}"
        for c in cells
    ]
    query = f"SELECT {', '.join(layer)}, {_FENCE} FROM ({query}) l0"
    # Each layer carries on only what is still needed: the cleaned texts, the values typed()
    # reads (``keep``) and the previous step's values (which this step reads).
    steps = [c.steps() for c in cells]
    keep = {name for c in cells for name in c.keep}
    kept, previous = [], []
    for depth in range(max(map(len, steps), default=0)):
        added = [
            pair for cell_steps in steps if depth < len(cell_steps) for pair in cell_steps[depth]
        ]
        carried = names + kept + [name for name in previous if name not in kept]
        layer = carried + [f"{sql} AS {name}" for name, sql in added]
        query = f"SELECT {', '.join(layer)}, {_FENCE} FROM ({query}) l{depth + 1}"
        kept = [name for name in carried if name in keep]
        previous = [name for name, _sql in added]
    layer = ["row_no"] + [c.v for c in cells] + [f"{c.typed()} AS x{c.i}" for c in cells]
    query = f"SELECT {', '.join(layer)}, {_FENCE} FROM ({query}) lv"

    fields = [c.field for c in run.spec.columns]
    present = {c.column.field: c for c in cells}
    values = [f"x{present[f].i}" if f in present else "NULL" for f in fields]
    bad = []
    for c in cells:
        bad.append(f"({c.v} IS NOT NULL AND x{c.i} IS NULL)")
        if c.column.required:
            bad.append(f"{c.v} IS NULL")
    if run.spec.kind == ImportKind.REGISTRY:
        # check_registry: a missing entity type is derived from USCC digits 1-2.
        derived = (
            f"CASE left(x{present['uscc'].i}, 2) "
            + " ".join(
                f"WHEN {_lit(p)} THEN {_lit(t)}" for p, t in ENTITY_TYPE_BY_USCC_PREFIX.items()
            )
            + f" ELSE {_lit(EntityType.OTHER)} END"
        )
        index = fields.index("entity_type")
        values[index] = f"COALESCE({values[index]}, {derived})"
    # The staging table of the Python path (same columns and types) plus ``bad``.
    types = dict(run.stage_columns())
    columns = [f"({value})::{types[f]} AS {f}" for f, value in zip(fields, values, strict=True)]
    columns += [f"NULL::{sql} AS {name}" for name, sql in types.items() if name not in fields]
    query = (
        f"CREATE TEMP TABLE {STAGE} AS SELECT row_no, {', '.join(columns)}, "
        f"{' OR '.join(bad) or 'false'} AS bad FROM ({query}) lt"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        # Parallel workers scan the raw table and compute every layer; the default cost of
        # passing rows between processes would keep this plan serial.
        cursor.execute("SET LOCAL parallel_setup_cost = 0")
        cursor.execute("SET LOCAL parallel_tuple_cost = 0")
        cursor.cursor.execute(query, _CLEAN_PARAMS)
        count = cursor.cursor.rowcount
        cursor.execute("SET LOCAL parallel_setup_cost = DEFAULT")
        cursor.execute("SET LOCAL parallel_tuple_cost = DEFAULT")
        return count


def _python_rows(run, mapping, errors):
    """Rows SQL could not take whole go through the Python converters, exactly as there."""
    indexes = [index for _h, _c, _conv, index in mapping]
    fields = [c.field for c in run.spec.columns]
    required_reason = _("A value is required.")
    row_check = run.row_check
    run.load_references()  # now: no other query may run while the cursor below is open
    writer = run.stage_writer()
    # A server-side cursor: a file may have many such rows, and they need not all be in memory.
    # The writer's COPYs run between its fetches; the rows it adds have bad = NULL.
    with writer, connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT r.row_no, {', '.join(f'r.c{i}' for i in indexes)} FROM {run.raw_table} r "
            f"WHERE r.row_no IN (SELECT row_no FROM {STAGE} WHERE bad) ORDER BY r.row_no"
        )
        fetched = 0
        for row_no, *raw in _fetched(cursor):
            fetched += 1
            values = dict.fromkeys(fields)
            ok = True
            for (header_text, column, convert, _index), cell in zip(mapping, raw, strict=True):
                if cell == "":
                    cell = None
                try:
                    value = convert(cell)
                except n.RowError as exc:
                    errors.append((row_no, header_text, cell, exc.reason))
                    ok = False
                    continue
                if value is None and column.required:
                    errors.append((row_no, header_text, cell, required_reason))
                    ok = False
                values[column.field] = value
            if ok:
                if run.spec.kind == ImportKind.REGISTRY and values["entity_type"] is None:
                    values["entity_type"] = n.entity_type_from_uscc(values["uscc"])
                writer.write(row_no, values)  # its row checks are SQL, on the staged rows
            else:
                # Every error of the row: its row checks too (issue 12).
                for field, reason, value in row_check(values):
                    errors.append((row_no, run.header_of.get(field, field), value, reason))
    if fetched:
        run.sql(f"DELETE FROM {STAGE} WHERE bad")


def _fetched(cursor, size=2000):
    while rows := cursor.fetchmany(size):
        yield from rows


def _duplicates(run, errors):
    """A key seen on an earlier (otherwise valid) row: error naming that row; unstaged."""
    key = ", ".join(run.spec.key)
    rows = run.sql(
        f"SELECT row_no, {key}, first_row FROM (SELECT row_no, {key}, "
        f"min(row_no) OVER (PARTITION BY {key}) AS first_row FROM {STAGE} "
        f"WHERE ({key}) IN (SELECT {key} FROM {STAGE} GROUP BY {key} HAVING count(*) > 1)"
        ") d WHERE row_no <> first_row"
    )
    if not rows:
        return
    column = run.header_of.get(run.spec.key[0], run.spec.key[0])
    for row_no, *key_values, first in rows:
        errors.append(
            (
                row_no,
                column,
                " / ".join(str(k) for k in key_values),
                format_lazy(_("Duplicate key: same as row {row}."), row=first),
            )
        )
    run.sql(f"DELETE FROM {STAGE} WHERE row_no = ANY(%s)", ([r[0] for r in rows],))
