from rest_framework import serializers

from ..choices import Guarantee, LoanProduct
from ..models import CreditApproval, CreditSnapshot, Loan


class LoanSerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)

    class Meta:
        model = Loan
        fields = [
            "id",
            "bank",
            "loan_no",
            "enterprise",
            "uscc",
            "disbursed_on",
            "matures_on",
            "amount",
            "balance",
            "product",
            "guarantee",
            "rate",
            "is_renewal",
            "renews_loan_no",
        ]


class CreditSnapshotSerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)

    class Meta:
        model = CreditSnapshot
        fields = [
            "id",
            "enterprise",
            "uscc",
            "bank",
            "as_of",
            "credit_limit",
            "loan_balance",
            "first_loan_date",
        ]


class CreditApprovalSerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    bank_code = serializers.CharField(source="bank_id", read_only=True)
    # Both are optional on an approval: "" when the bank did not say (the schema must allow it).
    product = serializers.ChoiceField(LoanProduct.choices, allow_blank=True, read_only=True)
    guarantee = serializers.ChoiceField(Guarantee.choices, allow_blank=True, read_only=True)

    class Meta:
        model = CreditApproval
        fields = [
            "id",
            "bank_code",
            "approval_no",
            "enterprise",
            "uscc",
            "approved_on",
            "amount",
            "product",
            "term_months",
            "guarantee",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
