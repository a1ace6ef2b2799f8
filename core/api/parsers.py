"""The API's JSON parser: a request body must be one JSON object without control characters."""

import json

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.middleware import CONTROL_CHARACTERS


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
            data = json.loads(
                stream.read().decode(encoding),
                parse_float=_finite_float,
                parse_constant=_no_constant,
            )
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParseError(_("The request body is not valid JSON.")) from exc
        if not isinstance(data, dict):
            raise ParseError(_("The request body must be a JSON object."))
        try:
            bad = any(CONTROL_CHARACTERS.search(text) for text in _strings(data))
        except RecursionError as exc:
            raise ParseError(_("The request body is nested too deeply.")) from exc
        if bad:
            raise ParseError(
                _("The request contains characters that are not allowed (control characters).")
            )
        return data
