from rest_framework import viewsets

from core.api.views import RestrictedViewSetMixin

from ..models import Bank
from .serializers import BankSerializer


class BankViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Banks and branches (reference data)."""

    queryset = Bank.objects.prefetch_related("service_regions")
    serializer_class = BankSerializer
    filterset_fields = ["level", "parent"]
