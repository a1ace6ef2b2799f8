"""Optimistic locking over HTTP: ``ETag`` on reading one record, ``If-Match`` to change it.

Every viewset of a ``core.locking.Versioned`` model mixes in ``VersionedUpdateMixin`` (before
its Scoped base): GET of one record answers ``ETag: "<version>"``; PUT and PATCH need
``If-Match`` with that value — none answers 428 Precondition Required, an older one 412
Precondition Failed with the fields the other person changed (``changes``: field, theirs,
yours) and the current ETag, and nothing is saved. The save itself goes through
``save_if_unchanged`` (or a service doing the same) inside the scoped write path.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from core.locking import EditConflict, parse_etag, save_if_unchanged

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=_('The ETag of the record as read (e.g. "3"); required to change it.'),
)
ETAG = {"ETag": {"schema": {"type": "string"}, "description": "The record's version."}}

ConflictSerializer = inline_serializer(
    "EditConflict",
    {
        "detail": serializers.CharField(),
        "current_version": serializers.IntegerField(allow_null=True),
        "changes": serializers.ListField(
            child=inline_serializer(
                "EditConflictChange",
                {
                    "field": serializers.CharField(),
                    "theirs": serializers.CharField(),
                    "yours": serializers.CharField(),
                },
            )
        ),
    },
)
PRECONDITION_RESPONSES = {
    412: OpenApiResponse(ConflictSerializer, description=_("Changed by someone else meanwhile.")),
    428: OpenApiResponse(description=_("The If-Match header is missing.")),
}


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = _(
        "Send the record's ETag in the If-Match header: it says which version you changed."
    )
    default_code = "precondition_required"


def versioned_update_schema(serializer):
    """The schema of PUT / PATCH on a versioned record (If-Match, 412, 428, the ETag)."""
    return extend_schema(
        parameters=[IF_MATCH],
        responses={
            200: OpenApiResponse(serializer, description=_("Saved; the new ETag is sent.")),
            **PRECONDITION_RESPONSES,
        },
    )


def conflict_response(current, changes, message=None):
    """412 with the fields the other person changed and the ETag to read again."""
    body = {
        "detail": str(
            message
            or _("Someone else changed this record while you were editing it; nothing was saved.")
        ),
        "current_version": getattr(current, "version", None),
        "changes": [
            {"field": str(field), "theirs": str(theirs), "yours": str(yours)}
            for field, theirs, yours in changes
        ],
    }
    headers = {"ETag": current.etag} if current is not None else {}
    return Response(body, status=status.HTTP_412_PRECONDITION_FAILED, headers=headers)


class VersionedUpdateMixin:
    """ETag / If-Match for a viewset of a Versioned model (list it before the Scoped base).

    Subclasses may override ``save_versioned(serializer, expected_version)`` to call their
    service (it must raise ``EditConflict`` when the version moved on); the default applies
    the validated fields and saves with ``save_if_unchanged`` in the scoped write path.
    """

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = instance.etag
        return response

    def expected_version(self, request):
        header = request.headers.get("If-Match")
        if not header:
            raise PreconditionRequired()
        return parse_etag(header)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        expected = self.expected_version(request)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        if expected is None:
            # "*" or garbage names no version: refused like an old one, nothing validated.
            return conflict_response(instance, [])
        serializer.is_valid(raise_exception=True)
        try:
            saved = self.save_versioned(serializer, expected)
        except EditConflict as conflict:
            return conflict_response(conflict.current, conflict.changes, conflict.args[0])
        saved.refresh_from_db()
        response = Response(self.get_serializer(saved).data)
        response["ETag"] = saved.etag
        return response

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def save_versioned(self, serializer, expected_version):
        instance = serializer.instance

        def save():
            for name, value in serializer.validated_data.items():
                setattr(instance, name, value)
            return save_if_unchanged(instance, expected_version)

        return self.scoped_save(save)
