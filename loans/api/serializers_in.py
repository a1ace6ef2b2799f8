"""The request and answer bodies of the bank API's upserts, for the schema (docs only: the
records themselves are checked by loans/api/upserts.py, in the same terms)."""

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from ..choices import Guarantee, LoanProduct


class _Record(serializers.Serializer):
    bank_code = serializers.CharField(max_length=40, help_text="银行机构代码")
    uscc = serializers.CharField(max_length=18, help_text="统一社会信用代码")


class CreditApprovalIn(_Record):
    approval_no = serializers.CharField(max_length=64, help_text="授信编号 (the bank's own id)")
    approved_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=20, decimal_places=6, help_text="万元, > 0")
    product = serializers.ChoiceField(choices=LoanProduct.choices, required=False)
    term_months = serializers.IntegerField(min_value=1, max_value=360, required=False)
    guarantee = serializers.ChoiceField(choices=Guarantee.choices, required=False)


class LoanIn(_Record):
    loan_no = serializers.CharField(max_length=64, help_text="借据号 (the bank's own id)")
    disbursed_on = serializers.DateField()
    matures_on = serializers.DateField(help_text="after disbursed_on")
    amount = serializers.DecimalField(max_digits=20, decimal_places=6, help_text="万元, > 0")
    balance = serializers.DecimalField(max_digits=20, decimal_places=6, required=False)
    product = serializers.ChoiceField(choices=LoanProduct.choices)
    guarantee = serializers.ChoiceField(choices=Guarantee.choices)
    rate = serializers.DecimalField(max_digits=8, decimal_places=4, required=False)
    is_renewal = serializers.BooleanField(required=False)
    renews_loan_no = serializers.CharField(max_length=64, required=False)


def one_or_many(name, serializer):
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[serializer, serializer(many=True)],
        resource_type_field_name=None,
        many=False,
    )


class UpsertResult(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.IntegerField()
    bank_code = serializers.CharField()
    approval_no = serializers.CharField(required=False)
    loan_no = serializers.CharField(required=False)
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged"])


class UpsertAnswer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    results = UpsertResult(many=True)


class UpsertError(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True)
    field = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    message = serializers.CharField()


class UpsertRefused(serializers.Serializer):
    detail = serializers.CharField()
    errors = UpsertError(many=True, required=False)
