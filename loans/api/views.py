import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from core.api.idempotency import IDEMPOTENCY_KEY, idempotent
from core.api.parsers import JSONObjectOrListParser
from core.api.viewsets import ScopedReadOnlyModelViewSet

from ..models import CreditApproval, CreditSnapshot, Loan
from . import upserts
from .serializers import CreditApprovalSerializer, CreditSnapshotSerializer, LoanSerializer
from .serializers_in import CreditApprovalIn, LoanIn, UpsertAnswer, UpsertRefused, one_or_many

UPSERT_RESPONSES = {
    200: OpenApiResponse(UpsertAnswer, description=_("Nothing new: updated or unchanged.")),
    201: OpenApiResponse(UpsertAnswer, description=_("At least one record was created.")),
    400: OpenApiResponse(UpsertRefused, description=_("Invalid records: nothing was written.")),
    403: OpenApiResponse(UpsertRefused, description=_("A record of a bank outside your scope.")),
    422: OpenApiResponse(description=_("The Idempotency-Key was used for another request.")),
}


class UpsertMixin:
    """POST one record or a list: upsert by (bank code, own id), Idempotency-Key honoured."""

    upsert_kind = None
    write_action = "report"
    parser_classes = [JSONObjectOrListParser]

    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: self._upsert(request))

    def _upsert(self, request):
        records = request.data if isinstance(request.data, list) else [request.data]
        via = "token" if getattr(request.auth, "key", None) else "api"
        try:
            body = upserts.upsert(request.user, self.upsert_kind, records, via=via)
        except upserts.Refused as refused:
            detail = (
                _("A record of a bank outside your scope: nothing was written.")
                if refused.status == 403
                else _("Some records are invalid: nothing was written.")
            )
            return Response(
                {"detail": str(detail), "errors": refused.errors}, status=refused.status
            )
        return Response(body, status=201 if body["created"] else 200)


class RegionFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(
        field_name="enterprise__region__code",
        lookup_expr="startswith",
        label=_("Region code (its enterprises and those of the regions below it)"),
    )
    enterprise_uscc = django_filters.CharFilter(field_name="enterprise__uscc")


class LoanFilter(RegionFilter):
    class Meta:
        model = Loan
        fields = ["region", "enterprise_uscc", "bank", "is_renewal", "guarantee", "product"]


class CreditApprovalFilter(RegionFilter):
    approved_after = django_filters.DateFilter(field_name="approved_on", lookup_expr="gte")
    approved_before = django_filters.DateFilter(field_name="approved_on", lookup_expr="lte")

    class Meta:
        model = CreditApproval
        fields = ["region", "enterprise_uscc", "bank", "approved_after", "approved_before"]


class LoanViewSet(UpsertMixin, ScopedReadOnlyModelViewSet):
    """Loans from bank ledgers, in the caller's region or of the caller's bank; a bank's system
    POSTs its loans (借据) here, one or a list, upserted by (bank code, loan_no)."""

    queryset = Loan.objects.select_related("enterprise")
    serializer_class = LoanSerializer
    filterset_class = LoanFilter
    upsert_kind = upserts.LOANS

    @extend_schema(
        request=one_or_many("LoanUpsert", LoanIn),
        responses=UPSERT_RESPONSES,
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


class CreditApprovalViewSet(UpsertMixin, ScopedReadOnlyModelViewSet):
    """Credit approvals (授信); a bank's system POSTs them here, one or a list, upserted by
    (bank code, approval_no)."""

    queryset = CreditApproval.objects.select_related("enterprise")
    serializer_class = CreditApprovalSerializer
    filterset_class = CreditApprovalFilter
    upsert_kind = upserts.APPROVALS

    @extend_schema(
        request=one_or_many("CreditApprovalUpsert", CreditApprovalIn),
        responses=UPSERT_RESPONSES,
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


class CreditSnapshotViewSet(ScopedReadOnlyModelViewSet):
    """Bank credit and loan-balance snapshots."""

    queryset = CreditSnapshot.objects.select_related("enterprise")
    serializer_class = CreditSnapshotSerializer
    filterset_fields = ["bank", "as_of"]
