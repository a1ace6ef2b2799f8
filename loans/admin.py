from django.contrib import admin

from .models import (
    CreditApproval,
    CreditSnapshot,
    EnterpriseStage,
    Loan,
    LoanRules,
    MaturityWatch,
    RenewalContact,
    StageChange,
)


class AllRowsAdmin(admin.ModelAdmin):
    """Soft-deleted rows stay reachable in the admin (to read or restore)."""

    def get_queryset(self, request):
        return self.model.all_objects.get_queryset()


@admin.register(Loan)
class LoanAdmin(AllRowsAdmin):
    list_display = [
        "bank",
        "loan_no",
        "enterprise",
        "disbursed_on",
        "matures_on",
        "amount",
        "is_renewal",
        "is_first_loan",
        "deleted_at",
    ]
    list_filter = ["bank", "is_renewal", "is_first_loan", "guarantee"]
    raw_id_fields = ["enterprise", "renews", "batch"]
    search_fields = ["loan_no", "enterprise__uscc"]
    readonly_fields = ["is_first_loan", "created_by", "deleted_at", "deleted_by"]


@admin.register(CreditApproval)
class CreditApprovalAdmin(AllRowsAdmin):
    list_display = ["bank", "approval_no", "enterprise", "approved_on", "amount", "deleted_at"]
    list_filter = ["bank", "product"]
    raw_id_fields = ["enterprise", "batch"]
    search_fields = ["approval_no", "enterprise__uscc"]
    readonly_fields = ["created_by", "deleted_at", "deleted_by"]


@admin.register(CreditSnapshot)
class CreditSnapshotAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "bank", "as_of", "credit_limit", "loan_balance"]
    raw_id_fields = ["enterprise"]


@admin.register(LoanRules)
class LoanRulesAdmin(admin.ModelAdmin):
    list_display = ["region", "partner_after_loans", "partner_products", "watch_days"]


@admin.register(RenewalContact)
class RenewalContactAdmin(admin.ModelAdmin):
    list_display = ["loan", "contacted_on", "outcome", "created_by"]
    raw_id_fields = ["loan"]


@admin.register(EnterpriseStage)
class EnterpriseStageAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "stage", "since"]
    list_filter = ["stage"]
    raw_id_fields = ["enterprise", "first_loan"]


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "from_stage", "to_stage", "changed_on", "loan"]
    raw_id_fields = ["enterprise", "loan"]


@admin.register(MaturityWatch)
class MaturityWatchAdmin(admin.ModelAdmin):
    list_display = ["loan", "bank", "county", "matures_on", "computed_on"]
    raw_id_fields = ["loan", "enterprise"]
