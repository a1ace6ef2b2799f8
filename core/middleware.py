"""Refuse requests carrying control characters before any view or query sees them."""

import re

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

# C0 controls and DEL, but not tab, line feed and carriage return (legitimate in text areas).
# PostgreSQL refuses NUL in text outright, so without this a NUL ends as a 500 inside a query.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _has_control_characters(query_dict):
    return any(
        CONTROL_CHARACTERS.search(key) or any(CONTROL_CHARACTERS.search(v) for v in values)
        for key, values in query_dict.lists()
    )


class RejectControlCharactersMiddleware:
    """Answers 400 when the path, a query parameter or a form field holds a control character.

    API requests get a JSON error, pages a styled error page. JSON bodies are checked by the
    API's parser (core.api.parsers); uploaded files are the importer's business.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._is_bad(request):
            return self._bad_request(request)
        return self.get_response(request)

    def _is_bad(self, request):
        if CONTROL_CHARACTERS.search(request.path) or _has_control_characters(request.GET):
            return True
        if request.method != "POST":
            return False
        # Page forms are parsed by the CSRF check anyway; API uploads are left to DRF's parsers
        # (parsing them here would bypass their upload handling; their fields are validated).
        if request.content_type == "application/x-www-form-urlencoded" or (
            request.content_type == "multipart/form-data" and not request.path.startswith("/api/")
        ):
            return _has_control_characters(request.POST)
        return False

    def _bad_request(self, request):
        message = _("The request contains characters that are not allowed (control characters).")
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=400)
        return render(request, "core/bad_request.html", {"message": message}, status=400)
