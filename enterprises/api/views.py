from rest_framework import mixins, viewsets

from core.api.views import RestrictedViewSetMixin

from ..filters import EnterpriseFilter
from ..models import Enterprise, Region
from .serializers import EnterpriseSerializer, RegionSerializer


class RegionViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Administrative divisions (reference data)."""

    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_fields = ["level", "parent"]


class EnterpriseViewSet(
    RestrictedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Enterprises in the caller's scope; personal data masked unless the role needs it."""

    queryset = Enterprise.objects.select_related("region")
    serializer_class = EnterpriseSerializer
    filterset_class = EnterpriseFilter
