from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core import jobs
from core.api.viewsets import ScopedGenericViewSet, ScopedReadOnlyModelViewSet

from ..filters import EnterpriseFilter
from ..models import Enterprise, ImportBatch, Region
from ..services.uploads import create_batch_from_upload, enqueue_import
from .serializers import (
    EnterpriseSerializer,
    ImportBatchDetailSerializer,
    ImportBatchSerializer,
    ImportUploadSerializer,
    RegionSerializer,
)


class RegionViewSet(ScopedReadOnlyModelViewSet):
    """Administrative divisions (reference data)."""

    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_fields = ["level", "parent"]


class EnterpriseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ScopedGenericViewSet,
):
    """Enterprises in the caller's scope; personal data masked unless the role needs it."""

    queryset = Enterprise.objects.select_related("region")
    serializer_class = EnterpriseSerializer
    filterset_class = EnterpriseFilter


class ImportBatchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ScopedGenericViewSet,
):
    """Import batches: multipart POST uploads a file and queues its import job.

    POST fields: kind, file, dry_run (default false: apply at once), force, skip_bad_rows. GET of one
    batch shows its status, counts, job and row errors. Everything needs the import right.
    """

    queryset = ImportBatch.objects.select_related("created_by", "job")
    serializer_class = ImportBatchSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["kind", "status"]
    read_action = write_action = "import"
    denied_message = _("You may not import data.")

    def get_queryset(self):
        jobs.fail_stale_jobs()  # a batch whose job was lost is settled as failed (core.signals)
        return super().get_queryset()

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ImportBatchDetailSerializer
        if self.action == "create":
            return ImportUploadSerializer
        return ImportBatchSerializer

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportBatchSerializer})
    def create(self, request):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        batch = self.scoped_save(
            lambda: create_batch_from_upload(request.user, data["kind"], data["file"])
        )
        enqueue_import(
            request.user,
            batch,
            dry_run=data["dry_run"],
            force=data["force"],
            skip_bad_rows=data["skip_bad_rows"],
        )
        batch.refresh_from_db()
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)
