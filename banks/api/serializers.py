from rest_framework import serializers

from ..models import Bank


class BankSerializer(serializers.ModelSerializer):
    class Meta:
        model = Bank
        fields = ["code", "name", "parent", "level", "service_regions", "capacity"]
