from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.api.views import RestrictedViewSetMixin

from ..filters import EnterpriseFilter
from ..models import Enterprise, ImportBatch, Region
from ..services.uploads import create_batch_from_upload, enqueue_import, settle_stuck_batches
from .serializers import (
    EnterpriseSerializer,
    ImportBatchDetailSerializer,
    ImportBatchSerializer,
    ImportUploadSerializer,
    RegionSerializer,
)


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


class ImportBatchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Import batches: multipart POST uploads a file and queues its import job.

    POST fields: kind, file, dry_run (default false: apply at once), force, skip_bad_rows. GET of one
    batch shows its status, counts, job and row errors. Everything needs the import right.
    """

    queryset = ImportBatch.objects.select_related("created_by", "job")
    serializer_class = ImportBatchSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["kind", "status"]

    def get_queryset(self):
        settle_stuck_batches()
        return super().get_queryset().restrict(self.request.user, "import")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ImportBatchDetailSerializer
        if self.action == "create":
            return ImportUploadSerializer
        return ImportBatchSerializer

    def check_permissions(self, request):
        super().check_permissions(request)
        if not request.user.scope.allows("import"):
            self.permission_denied(request, message=_("You may not import data."))

    @extend_schema(request=ImportUploadSerializer, responses=ImportBatchSerializer)
    def create(self, request):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        batch = create_batch_from_upload(request.user, data["kind"], data["file"])
        enqueue_import(
            request.user,
            batch,
            dry_run=data["dry_run"],
            force=data["force"],
            skip_bad_rows=data["skip_bad_rows"],
        )
        batch.refresh_from_db()
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)
