"""The visits API: visits, coordination items, the application and recommendation lists.

Visits and items are versioned (ETag / If-Match, core/api/locking.py); their writes go through
the visit and item services (visits/services/), the same the screens use.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from core.api.locking import VersionedUpdateMixin, versioned_update_schema
from core.api.viewsets import ScopedGenericViewSet, ScopedReadOnlyModelViewSet
from core.writes import OutOfScope
from enterprises.models import Enterprise

from ..choices import VisitMethod, VisitRound
from ..models import Application, CoordinationItem, Recommendation, Visit
from ..services.items import update_item
from ..services.visits import EDITABLE_FIELDS, record_visit, update_visit
from .filters import ApplicationFilter, CoordinationItemFilter, RecommendationFilter, VisitFilter
from .serializers import (
    ApplicationSerializer,
    CoordinationItemSerializer,
    RecommendationSerializer,
    VisitSerializer,
)


@extend_schema_view(
    update=versioned_update_schema(VisitSerializer),
    partial_update=versioned_update_schema(VisitSerializer),
    create=extend_schema(
        responses={
            201: VisitSerializer,
            200: OpenApiResponse(
                VisitSerializer, description="The visit this client_key made before."
            ),
        }
    ),
)
class VisitViewSet(
    VersionedUpdateMixin,
    ScopedGenericViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
):
    """Field visits of enterprises in the caller's scope (bank officers: their enterprises).

    POST with a ``client_key`` is idempotent: the same key answers the visit it made (200).
    """

    queryset = Visit.objects.select_related("enterprise").order_by("-visited_on", "-id")
    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    write_action = "visit"

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        client_key = data.pop("client_key", None)
        # Only the caller's enterprises: another's answers as if it did not exist.
        mine = Enterprise.objects.restrict(request.user, self.write_action)
        if not mine.filter(pk=data["enterprise"].pk).exists():
            raise NotFound()
        defaults = {
            "round": VisitRound.FIRST,
            "method": VisitMethod.ON_SITE,
            "intent": "",
            "need_purpose": "",
            "note": "",
        }
        data = {**defaults, **data}
        visit, created = _service(lambda: record_visit(request.user, data, client_key=client_key))
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        response = Response(self.get_serializer(visit).data, status=code)
        response["ETag"] = visit.etag
        return response

    def save_versioned(self, serializer, expected_version):
        visit = serializer.instance
        # PATCH sends some fields: the service checks the whole visit as it would be.
        data = {name: getattr(visit, name) for name in EDITABLE_FIELDS}
        data.update(serializer.validated_data)
        data.pop("client_key", None)
        return _service(lambda: update_visit(self.request.user, visit, data, expected_version))


def _service(call):
    """Run a service call; its refusals become the API's 400 (by field) and 403."""
    try:
        return call()
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        raise ValidationError(detail) from exc
    except OutOfScope as exc:
        raise PermissionDenied(str(exc)) from exc


@extend_schema_view(
    update=versioned_update_schema(CoordinationItemSerializer),
    partial_update=versioned_update_schema(CoordinationItemSerializer),
)
class CoordinationItemViewSet(
    VersionedUpdateMixin,
    ScopedGenericViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
):
    """Coordination items (问题协调); PATCH changes status, resolution and owners (If-Match)."""

    queryset = CoordinationItem.objects.select_related("enterprise").order_by("created_at", "id")
    serializer_class = CoordinationItemSerializer
    filterset_class = CoordinationItemFilter
    write_action = "visit"
    http_method_names = ["get", "patch", "head", "options"]

    def save_versioned(self, serializer, expected_version):
        data = dict(serializer.validated_data)
        # update_item saves through the write path itself (scope re-check, history).
        return _service(
            lambda: update_item(self.request.user, serializer.instance, data, expected_version)
        )


class ApplicationViewSet(ScopedReadOnlyModelViewSet):
    """The application list (申报清单) and each entry's five-standards check (read-only)."""

    queryset = Application.objects.select_related("enterprise").order_by("created_at", "id")
    serializer_class = ApplicationSerializer
    filterset_class = ApplicationFilter


class RecommendationViewSet(ScopedReadOnlyModelViewSet):
    """The recommendation list (推荐清单): enterprises recommended to a bank, by date."""

    queryset = Recommendation.objects.select_related("enterprise").order_by(
        "-recommended_on", "-id"
    )
    serializer_class = RecommendationSerializer
    filterset_class = RecommendationFilter
