from django.contrib import admin

from .models import CreditSnapshot, Loan


@admin.register(Loan)
class LoanAdmin(admin.ModelAdmin):
    list_display = [
        "bank",
        "loan_no",
        "enterprise",
        "disbursed_on",
        "matures_on",
        "amount",
        "is_renewal",
    ]
    list_filter = ["bank", "is_renewal", "guarantee"]
    raw_id_fields = ["enterprise", "renews"]
    search_fields = ["loan_no", "enterprise__uscc"]


@admin.register(CreditSnapshot)
class CreditSnapshotAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "bank", "as_of", "credit_limit", "loan_balance"]
    raw_id_fields = ["enterprise"]
