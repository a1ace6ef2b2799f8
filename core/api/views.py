"""The API base: every viewset's queryset goes through ``restrict(user, action)``."""

from rest_framework import mixins, viewsets

from ..models import Job
from .serializers import JobSerializer

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class RestrictedViewSetMixin:
    """Scopes ``queryset`` to the requesting user: reads need ``view``, writes ``write_action``.

    Rows outside the scope are simply absent, so asking for one answers 404, never data.
    """

    write_action = "change"

    def get_queryset(self):
        action = "view" if self.request.method in SAFE_METHODS else self.write_action
        return super().get_queryset().restrict(self.request.user, action)


class JobViewSet(
    RestrictedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Jobs (imports, list rebuilds, exports) with their status and progress."""

    queryset = Job.objects.select_related("created_by")
    serializer_class = JobSerializer
    filterset_fields = ["kind", "status"]
