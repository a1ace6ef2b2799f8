from rest_framework import serializers

from ..models import Bank, BankAssignment


class BankSerializer(serializers.ModelSerializer):
    class Meta:
        model = Bank
        fields = ["code", "name", "parent", "level", "service_regions", "capacity"]


class BankAssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = BankAssignment
        fields = ["id", "enterprise", "bank", "role", "assigned_at"]
        read_only_fields = ["assigned_at"]
