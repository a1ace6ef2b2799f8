from rest_framework import mixins

from ..models import Job
from .serializers import JobSerializer
from .viewsets import ScopedGenericViewSet


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Jobs (imports, list rebuilds, exports) with their status and progress."""

    queryset = Job.objects.select_related("created_by")
    serializer_class = JobSerializer
    filterset_fields = ["kind", "status"]
