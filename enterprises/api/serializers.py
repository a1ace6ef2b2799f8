from rest_framework import serializers

from ..models import Enterprise, Region
from ..services.privacy import mask_name, mask_phone


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
