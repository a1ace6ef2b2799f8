from rest_framework import serializers

from dashboards.ranking import decline_reason_label


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
    visited_enterprises = serializers.IntegerField(help_text="走访企业数 (completed visits)")
    recommended_enterprises = serializers.IntegerField(help_text="纳入推荐清单数")
    credited_enterprises = serializers.IntegerField(help_text="获得授信户数")
    credit_amount = _amount("授信金额 (万元)")
    avg_days_to_disburse = serializers.DecimalField(
        max_digits=12,
        decimal_places=1,
        coerce_to_string=False,
        allow_null=True,
        help_text="平均放款时长 (days, one decimal); null when no recommended enterprise got a loan",
    )


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


class FunnelStageSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="KPI key of the stage")
    label = serializers.CharField()
    count = serializers.IntegerField(allow_null=True, help_text="null: no screening list yet")
    rate_from_previous = _rate("this stage / the previous one; null when that is 0 or null")


class FunnelSerializer(serializers.Serializer):
    region = RegionRefSerializer()
    start = serializers.DateField()
    end = serializers.DateField()
    as_of = serializers.DateTimeField()
    stages = FunnelStageSerializer(many=True)
    no_loan_entities = serializers.IntegerField(allow_null=True, help_text="无贷户数 (current)")
    first_loan_enterprises = serializers.IntegerField(help_text="首贷户数 in the period")
    first_loan_conversion = _rate(
        "首贷转化率: first-loan enterprises / (no-loan entities + first-loan enterprises)"
    )


class DeclineReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="decline reason code (banks DeclineReason)")
    label = serializers.SerializerMethodField()
    count = serializers.IntegerField()

    def get_label(self, row) -> str:
        return str(decline_reason_label(row["reason"]))


class RankingRowSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="bank code")
    name = serializers.CharField()
    due = serializers.IntegerField(help_text="assignments whose feedback was due in the period")
    on_time = serializers.IntegerField(help_text="of those, first feedback on or before the day")
    on_time_rate = _rate("feedback on time (fraction)")
    answered = serializers.IntegerField(help_text="assignments first answered in the period")
    declined = serializers.IntegerField(help_text="assignments declined in the period")
    decline_rate = _rate("declined / answered")
    decline_reasons = DeclineReasonSerializer(many=True)
    recommended = serializers.IntegerField(help_text="enterprises recommended to the bank")
    credited = serializers.IntegerField(help_text="of those, granted credit by it after")
    disbursed = serializers.IntegerField(help_text="of those, lent to by it after")
    credit_rate = _rate("credited / recommended")
    disbursed_rate = _rate("disbursed / recommended")
    avg_days_to_loan = serializers.DecimalField(
        max_digits=12, decimal_places=1, coerce_to_string=False, allow_null=True
    )
    hand_offs_received = serializers.IntegerField()
    hand_offs_given = serializers.IntegerField()


class RankingInstitutionSerializer(RankingRowSerializer):
    rank = serializers.IntegerField()
    branches = RankingRowSerializer(many=True)


class RankingSerializer(serializers.Serializer):
    region = RegionRefSerializer()
    start = serializers.DateField()
    end = serializers.DateField()
    as_of = serializers.DateTimeField()
    institutions = RankingInstitutionSerializer(many=True)
