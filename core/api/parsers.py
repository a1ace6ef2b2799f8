"""The API's JSON parser: a request body must be one JSON object without control characters."""

import io
import json
import re

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.middleware import CONTROL_CHARACTERS

# What a JSON text must contain for a decoded string to hold a control character: the
# character itself (only DEL may stand raw in JSON), or its escape. Most bodies have neither,
# and then the walk over every string is skipped; a false alarm (an escaped backslash before
# "u0001", say) only costs the walk.
MAY_HOLD_CONTROL_CHARACTERS = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\\[bf]|\\u00[01]|\\u007[fF]"
)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _no_constant(name):
    raise ParseError(_("A number in the request body is not finite."))


def _finite_float(text):
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ParseError(_("A number in the request body is too large."))
    return number


class JSONObjectParser(JSONParser):
    """Parses a JSON body; answers 400 unless it is an object with finite numbers and no
    control characters (every endpoint takes named fields; PostgreSQL refuses NUL in text)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        try:
            text = stream.read().decode(encoding)
            data = json.loads(
                text,
                parse_float=_finite_float,
                parse_constant=_no_constant,
            )
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParseError(_("The request body is not valid JSON.")) from exc
        if not isinstance(data, dict):
            raise ParseError(_("The request body must be a JSON object."))
        if not MAY_HOLD_CONTROL_CHARACTERS.search(text):
            return data
        try:
            bad = any(CONTROL_CHARACTERS.search(value) for value in _strings(data))
        except RecursionError as exc:
            raise ParseError(_("The request body is nested too deeply.")) from exc
        if bad:
            raise ParseError(
                _("The request contains characters that are not allowed (control characters).")
            )
        return data


class JSONObjectOrListParser(JSONObjectParser):
    """As JSONObjectParser, and also a list of objects (bulk writes: a batch of records)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        listed = raw.lstrip()[:1] == b"["
        if listed:  # the object checks of the parent, on {"items": [...]}
            raw = b'{"items": ' + raw + b"}"
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        if not listed:
            return data
        items = data["items"]
        if not all(isinstance(item, dict) for item in items):
            raise ParseError(_("Each record of the list must be a JSON object."))
        return items
