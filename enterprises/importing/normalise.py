"""Cell and header normalisation: one place where every reader's values become exact types.

Converters take a raw cell (str, int, float, date, datetime or None) and return the clean
value or None (missing); they raise ``RowError`` with a translated reason when a value is bad.
"""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from ..choices import ENTITY_TYPE_BY_USCC_PREFIX, EntityType


class RowError(ValueError):
    """A bad cell value; ``reason`` is a lazy translated message."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


# --- Text ---------------------------------------------------------------------------------

# Full-width ASCII (U+FF01–U+FF5E) → half-width, the ideographic space → a space.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_NEEDS_HALF_WIDTH = re.compile("[\uff01-\uff5e\u3000]").search


def clean_text(value):
    """Trim (incl. U+3000), full-width → half-width; '' → None. Numbers keep their digits."""
    if value.__class__ is str and value.isascii():  # the common case, kept short
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, float):
        value = repr(int(value)) if value.is_integer() else repr(value)
    elif not isinstance(value, str):
        value = str(value)
    if not value.isascii() and _NEEDS_HALF_WIDTH(value):
        value = value.translate(_FULLWIDTH)
    value = value.strip()
    return value or None


def normalise_header(value):
    """Header key: half-width, no spaces, lower case, full-width brackets = ASCII brackets."""
    text = clean_text(value) or ""
    return re.sub(r"\s+", "", text).lower()


# --- Dates --------------------------------------------------------------------------------

_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def to_date(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        return _excel_serial(value)
    text = clean_text(value)
    if text is None:
        return None
    if len(text) == 10 and text[4] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    if text.isdigit():
        if len(text) == 8:
            try:
                return date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                raise RowError(_("Not a valid date.")) from None
        if len(text) <= 5:
            return _excel_serial(int(text))
    if len(text) > 10 and text[10] in " T":  # 2025-06-30 00:00:00 from a datetime cell
        text = text[:10]
    match = _DATE_RE.match(text)
    if not match:
        raise RowError(_("Not a date (use e.g. 2025-06-30)."))
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise RowError(_("Not a valid date.")) from None


def _excel_serial(number):
    if not 1 <= number < 2958466:
        raise RowError(_("Not a valid date."))
    return _EXCEL_EPOCH + timedelta(days=int(number))


# --- Numbers ------------------------------------------------------------------------------

_TEN_THOUSAND = Decimal(10000)


def to_decimal(value):
    if value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # Spreadsheet numbers are binary floats: their shortest repr is what the user typed.
        return Decimal(repr(value))
    text = clean_text(value)
    if text is None:
        return None
    text = text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RowError(_("Not a number.")) from None
    if not number.is_finite():
        raise RowError(_("Not a number."))
    return number


def to_amount(value):
    number = to_decimal(value)
    if number is not None and abs(number) >= Decimal("1e14"):
        raise RowError(_("Amount too large."))
    return number


def to_yuan_amount(value):
    """An amount in 元 (the header said so): stored in 万元."""
    number = to_amount(value)
    return None if number is None else number / _TEN_THOUSAND


def to_non_negative_amount(value):
    number = to_amount(value)
    if number is not None and number < 0:
        raise RowError(_("Must not be negative."))
    return number


def to_int(value):
    number = to_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise RowError(_("Not a whole number."))
    if not -(2**31) < number < 2**31:
        raise RowError(_("Number too large."))
    return int(number)


def to_count(value):
    number = to_int(value)
    if number is not None and number < 0:
        raise RowError(_("Must not be negative."))
    return number


def to_year(value):
    number = to_int(value)
    if number is not None and not 1900 <= number <= 2100:
        raise RowError(_("Not a valid year."))
    return number


_TRUE = {"是", "y", "yes", "1", "true", "t", "√"}
_FALSE = {"否", "n", "no", "0", "false", "f", "×"}


def to_bool(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = clean_text(value)
    if text is None:
        return None
    text = text.lower()
    if text in _TRUE or text == "1.0":
        return True
    if text in _FALSE or text == "0.0":
        return False
    raise RowError(_("Not a yes/no value (是/否, Y/N, 1/0, true/false)."))


def choice(mapping):
    """A converter accepting the Chinese label or the stored value of a choice."""
    lookup = {}
    for label, slug in mapping.items():
        lookup[label.lower()] = slug
        lookup[slug.lower()] = slug
    allowed = " / ".join(mapping)

    def convert(value):
        text = clean_text(value)
        if text is None:
            return None
        try:
            return lookup[text.lower()]
        except KeyError:
            raise RowError(
                format_lazy(_("Unknown value; allowed: {allowed}."), allowed=allowed)
            ) from None

    convert.lookup = lookup  # for the SQL fast path (sqlpath.py)
    return convert


def max_length(n):
    def convert(value):
        text = clean_text(value)
        if text is not None and len(text) > n:
            raise RowError(format_lazy(_("Too long (at most {n} characters)."), n=n))
        return text

    convert.max_length = n  # for the SQL fast path (sqlpath.py)
    return convert


# --- Codes (the SQL fast path has an exact SQL form of these two) -------------------------


def industry_code(value):
    text = clean_text(value)
    if text is None:
        return None
    text = text.upper()
    if not (
        (len(text) == 5 and text[0].isalpha() and text[1:].isdigit())
        or (len(text) in (2, 3, 4) and text.isdigit())
        or (len(text) == 1 and text.isalpha())
    ):
        raise RowError(_("Not a GB/T 4754 industry code (e.g. C3429 or 3429)."))
    return text


def region_code(value):
    text = clean_text(value)
    if text is None:
        return None
    if not text.isdigit() or len(text) not in (6, 9, 12):
        raise RowError(_("A region code has 6, 9 or 12 digits."))
    return text[:9] if len(text) == 12 else text


# What a spreadsheet reads as a formula (CSV/formula injection): such text is never stored.
FORMULA_STARTS = ("=", "+", "-", "@")


def plain_text(n):
    """Like ``max_length(n)``, and text starting like a formula (= + - @) is refused."""
    limit = max_length(n)

    def convert(value):
        text = limit(value)
        if text is not None and text.startswith(FORMULA_STARTS):
            raise RowError(
                _("Text may not start with = + - or @ (a spreadsheet would read it as a formula).")
            )
        return text

    return convert


# --- USCC (GB 32100-2015) -----------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# (position, character) → weighted value mod 31, so the check is 17 dict look-ups and a sum.
_USCC_TABLE = [{c: (v * w) % 31 for c, v in _USCC_VALUE.items()} for w in _USCC_WEIGHTS]


def uscc_is_valid(code):
    """Fast equivalent of ``stdnum.cn.uscc.is_valid`` for an already upper-case, clean code."""
    if len(code) != 18:
        return False
    try:
        total = sum(map(dict.__getitem__, _USCC_TABLE, code[:17]))
        check = _USCC_VALUE[code[17]]
    except KeyError:
        return False
    if not code[:8].isdigit():  # ASCII here: every character passed the alphabet look-up
        return False
    return (31 - total % 31) % 31 == check


def to_uscc(value):
    text = clean_text(value)
    if text is None:
        return None
    text = text.upper().replace(" ", "").replace("-", "")
    if len(text) != 18:
        raise RowError(_("A USCC has 18 characters."))
    if not uscc_is_valid(text):
        raise RowError(_("Invalid USCC (wrong check digit or characters)."))
    return text


def entity_type_from_uscc(code):
    return ENTITY_TYPE_BY_USCC_PREFIX.get(code[:2], EntityType.OTHER)
