from rest_framework import viewsets

from core.api.views import RestrictedViewSetMixin

from ..models import CreditSnapshot, Loan
from .serializers import CreditSnapshotSerializer, LoanSerializer


class LoanViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Loans from bank ledgers, in the caller's region or of the caller's bank."""

    queryset = Loan.objects.select_related("enterprise")
    serializer_class = LoanSerializer
    filterset_fields = ["bank", "is_renewal", "guarantee", "product"]


class CreditSnapshotViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Bank credit and loan-balance snapshots."""

    queryset = CreditSnapshot.objects.select_related("enterprise")
    serializer_class = CreditSnapshotSerializer
    filterset_fields = ["bank", "as_of"]
