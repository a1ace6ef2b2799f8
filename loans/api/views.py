from core.api.viewsets import ScopedReadOnlyModelViewSet

from ..models import CreditSnapshot, Loan
from .serializers import CreditSnapshotSerializer, LoanSerializer


class LoanViewSet(ScopedReadOnlyModelViewSet):
    """Loans from bank ledgers, in the caller's region or of the caller's bank."""

    queryset = Loan.objects.select_related("enterprise")
    serializer_class = LoanSerializer
    filterset_fields = ["bank", "is_renewal", "guarantee", "product"]


class CreditSnapshotViewSet(ScopedReadOnlyModelViewSet):
    """Bank credit and loan-balance snapshots."""

    queryset = CreditSnapshot.objects.select_related("enterprise")
    serializer_class = CreditSnapshotSerializer
    filterset_fields = ["bank", "as_of"]
