from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..choices import ProblemType, guarantee_choices
from ..models import Application, CoordinationItem, Recommendation, Visit


class VisitSerializer(serializers.ModelSerializer):
    """A field visit; ``version`` is also the ETag (send it back in If-Match to change it)."""

    enterprise_uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    acceptable_guarantees = serializers.ListField(
        # The codes are set in get_fields: read from the loans app once the apps are loaded.
        child=serializers.ChoiceField(choices=[]),
        required=False,
    )
    problems = serializers.ListField(
        child=serializers.ChoiceField(choices=ProblemType.choices), required=False
    )
    client_key = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=_("The draft's id: sending the same draft again returns the visit it made."),
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "version",
            "enterprise",
            "enterprise_uscc",
            "enterprise_name",
            "round",
            "visited_on",
            "method",
            "status",
            "township_worker",
            "township_worker_name",
            "bank",
            "bank_officer",
            "bank_officer_name",
            "operating_normally",
            "has_need",
            "need_amount",
            "need_purpose",
            "need_term_months",
            "acceptable_guarantees",
            "intent",
            "problems",
            "note",
            "next_visit_on",
            "client_key",
            "created_at",
            "updated_at",
        ]
        # The 1+1 team comes from the caller and the enterprise's lead bank (the visit
        # service); only the names as typed are written.
        read_only_fields = [
            "version",
            "status",
            "township_worker",
            "bank",
            "bank_officer",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            # Checked against the caller's scope by the view (404 outside it).
            "enterprise": {"queryset": Visit._meta.get_field("enterprise").related_model.objects},
        }

    def get_fields(self):
        fields = super().get_fields()
        fields["acceptable_guarantees"].child.choices = guarantee_choices()
        if self.instance is not None and not isinstance(self.instance, list):
            # A visit stays with its enterprise and draft.
            fields["enterprise"].read_only = True
            fields["client_key"].read_only = True
        return fields


class CoordinationItemSerializer(serializers.ModelSerializer):
    """A coordination item; only status, resolution and the owners change through the API."""

    enterprise_uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = CoordinationItem
        fields = [
            "id",
            "version",
            "enterprise",
            "enterprise_uscc",
            "enterprise_name",
            "visit",
            "problem",
            "description",
            "owner_department",
            "owner_bank",
            "owner",
            "status",
            "due_on",
            "level",
            "escalated_at",
            "resolution",
            "resolved_at",
            "created_at",
        ]
        read_only_fields = [
            "version",
            "enterprise",
            "visit",
            "problem",
            "description",
            "due_on",
            "level",
            "escalated_at",
            "resolved_at",
            "created_at",
        ]


class ApplicationSerializer(serializers.ModelSerializer):
    enterprise_uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = Application
        fields = [
            "id",
            "version",
            "enterprise",
            "enterprise_uscc",
            "enterprise_name",
            "visit",
            "need_amount",
            "status",
            "checks",
            "checked_at",
            "approved_at",
            "created_at",
        ]
        read_only_fields = fields


class RecommendationSerializer(serializers.ModelSerializer):
    enterprise_uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    bank_code = serializers.CharField(source="bank_id", read_only=True)

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "enterprise",
            "enterprise_uscc",
            "enterprise_name",
            "bank_code",
            "application",
            "recommended_on",
            "batch_no",
            "need_amount",
            "created_at",
        ]
        read_only_fields = fields
