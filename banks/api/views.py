from core.api.viewsets import ScopedModelViewSet, ScopedReadOnlyModelViewSet

from ..models import Bank, BankAssignment
from .serializers import BankAssignmentSerializer, BankSerializer


class BankViewSet(ScopedReadOnlyModelViewSet):
    """Banks and branches (reference data)."""

    queryset = Bank.objects.prefetch_related("service_regions")
    serializer_class = BankSerializer
    filterset_fields = ["level", "parent"]


class BankAssignmentViewSet(ScopedModelViewSet):
    """Lead and backup banks of enterprises (1 主办行 + 1 备选行); writing needs ``allocate``,
    and the enterprise and bank must stay inside the caller's scope."""

    queryset = BankAssignment.objects.select_related("enterprise", "bank")
    serializer_class = BankAssignmentSerializer
    filterset_fields = ["bank", "role", "enterprise"]
    write_action = "allocate"
