from django.utils.translation import gettext as _
from rest_framework import serializers

from enterprises.models import Region

from ..models import ListChange, ListExclusion, ListMembership, ScreeningRun
from ..reasons import describe, own_first_loan_on, own_reasons


class ReasonsField(serializers.JSONField):
    """Reason codes as stored ([{"code": …, "on": …}]), each with its readable text."""

    def to_representation(self, value):
        return [{**r, "text": text} for r, text in zip(value or [], describe(value), strict=True)]


class OwnReasonsField(ReasonsField):
    """The row's reasons without other banks' first-loan dates (see reasons.own_reasons)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value):
        return super().to_representation(own_reasons(value))


class OwnFirstLoanField(serializers.DateField):
    """The first-loan date, or null when only another bank's data shows it."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return super().to_representation(own_first_loan_on(value))


class MembershipSerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    name = serializers.CharField(source="enterprise.name", read_only=True)
    region = serializers.CharField(source="enterprise.region_id", read_only=True)
    entity_type = serializers.CharField(source="enterprise.entity_type", read_only=True)
    first_loan_on = OwnFirstLoanField()
    reasons = OwnReasonsField()

    class Meta:
        model = ListMembership
        fields = [
            "id",
            "run",
            "list_type",
            "enterprise",
            "uscc",
            "name",
            "region",
            "entity_type",
            "tier",
            "batch_no",
            "score",
            "rating",
            "bank_count",
            "first_loan_on",
            "reasons",
        ]


class ExclusionSerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    name = serializers.CharField(source="enterprise.name", read_only=True)
    reasons = OwnReasonsField()

    class Meta:
        model = ListExclusion
        fields = [
            "id",
            "run",
            "list_type",
            "enterprise",
            "uscc",
            "name",
            "reasons",
            "obstacles",
            "repairable",
        ]


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScreeningRun
        fields = [
            "id",
            "region",
            "status",
            "is_current",
            "rule_set",
            "previous",
            "job",
            "as_of",
            "period_start",
            "period_end",
            "created_at",
            "started_at",
            "finished_at",
            "counts",
            "error",
        ]


class ListSummarySerializer(serializers.Serializer):
    list_type = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class RebuildRequestSerializer(serializers.Serializer):
    # An unknown code is a 400: taken for "no region", it would rebuild every county.
    region = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=12,
        help_text="county code to rebuild; default: the caller's region",
    )

    def validate_region(self, code):
        if not code:
            return None
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise serializers.ValidationError(_("Unknown region code: %(code)s.") % {"code": code})
        return region


class ChangeSerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    name = serializers.CharField(source="enterprise.name", read_only=True)
    reasons = OwnReasonsField()

    class Meta:
        model = ListChange
        fields = ["id", "run", "list_type", "change", "enterprise", "uscc", "name", "reasons"]
