from rest_framework import serializers

from ..models import Job


class JobSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    # null for jobs nobody started (the nightly rebuild) or whose user was deleted
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "kind_label",
            "params",
            "status",
            "region",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "progress_done",
            "progress_total",
            "percent",
            "step",
            "counts",
            "result_url",
            "error",
        ]
        read_only_fields = fields
