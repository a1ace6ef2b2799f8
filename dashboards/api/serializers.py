from rest_framework import serializers


def _amount(help_text):
    return serializers.DecimalField(
        max_digits=24, decimal_places=6, coerce_to_string=True, help_text=help_text
    )


def _rate(help_text):
    return serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        coerce_to_string=False,
        allow_null=True,
        help_text=help_text,
    )


class KpiSerializer(serializers.Serializer):
    active_entities = serializers.IntegerField(
        allow_null=True, help_text="活跃经营主体数; null until a screening list exists"
    )
    no_loan_entities = serializers.IntegerField(allow_null=True, help_text="无贷户数")
    disbursed_amount = _amount("累放贷款金额 (万元)")
    first_loan_enterprises = serializers.IntegerField(help_text="首贷户数")
    first_loan_amount = _amount("首贷金额 (万元)")
    credit_loan_amount = _amount("信用贷款金额 (万元)")
    renewal_balance = _amount("无还本续贷余额 at end (万元)")
    renewal_increase_ytd = _amount("较年初新增 (万元)")
    renewal_yoy_growth = _rate("同比增速 (fraction); null when the balance a year earlier is 0")
    financing_coverage_rate = _rate("融资覆盖率 (fraction); null when no small/micro entities")


class StatsRowSerializer(KpiSerializer):
    key = serializers.CharField(help_text="region code prefix, bank code, YYYY-MM …")
    label = serializers.CharField()
    region = serializers.CharField(required=False, allow_null=True)


class RegionRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


class StatsSerializer(KpiSerializer):
    region = RegionRefSerializer()
    start = serializers.DateField()
    end = serializers.DateField()
    group_by = serializers.CharField(allow_null=True)
    as_of = serializers.DateTimeField(help_text="when these figures were computed")
    data_as_of = serializers.DateTimeField(
        allow_null=True, help_text="when an import last changed the data"
    )
    rows = StatsRowSerializer(many=True)
