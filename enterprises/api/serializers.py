from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import JobSerializer

from ..choices import ImportKind
from ..models import Enterprise, ImportBatch, ImportRowError, Region
from ..services.privacy import mask_name, mask_phone, masked_errors
from ..services.uploads import validate_upload


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]


class EnterpriseSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "uscc",
            "name",
            "entity_type",
            "legal_rep",
            "phone",
            "established_on",
            "registered_capital",
            "status",
            "industry_code",
            "region",
            "region_name",
            "address",
            "employees",
            "size",
            "updated_at",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.scope.sees_personal_data:
            data["legal_rep"] = mask_name(data["legal_rep"])
            data["phone"] = mask_phone(data["phone"])
        return data


class ImportRowErrorSerializer(serializers.ModelSerializer):
    reason = serializers.CharField(source="reason_text", read_only=True)  # caller's language

    class Meta:
        model = ImportRowError
        fields = ["row_number", "column", "value", "reason", "is_warning"]


class ImportBatchSerializer(serializers.ModelSerializer):
    # null for files imported from the command line; job null until the batch is queued
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    job = JobSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "kind",
            "file_name",
            "file_sha256",
            "file_size",
            "status",
            "forced",
            "created_by",
            "created_at",
            "applied_at",
            "rows_read",
            "rows_created",
            "rows_updated",
            "rows_unchanged",
            "rows_failed",
            "unknown_columns",
            "message",
            "job",
        ]


class ImportBatchDetailSerializer(ImportBatchSerializer):
    errors = serializers.SerializerMethodField()

    class Meta(ImportBatchSerializer.Meta):
        fields = [*ImportBatchSerializer.Meta.fields, "errors"]

    @extend_schema_field(ImportRowErrorSerializer(many=True))
    def get_errors(self, batch):
        request = self.context.get("request")
        user = request.user if request is not None else None
        errors = masked_errors(batch, user, batch.errors.all()[:1000])
        return ImportRowErrorSerializer(errors, many=True).data


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()
    dry_run = serializers.BooleanField(default=False)
    force = serializers.BooleanField(
        default=False, help_text="Import a file already imported once more."
    )
    skip_bad_rows = serializers.BooleanField(
        default=False,
        help_text="Apply the valid rows even when more rows than the error threshold have "
        "errors; the bad rows are skipped (default: strict, nothing is applied).",
    )

    def validate_file(self, upload):
        return validate_upload(upload)  # the same rule as the upload form
