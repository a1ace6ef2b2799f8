from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from core.views import paginate

from .filters import EnterpriseFilter
from .models import Enterprise
from .services.privacy import personal_fields


def get_enterprise_for_user(request, pk, action="view"):
    """The enterprise if the user may perform ``action`` on it, else 404."""
    return get_object_or_404(
        Enterprise.objects.restrict(request.user, action).select_related("region", "batch"), pk=pk
    )


@login_required
def enterprise_list(request):
    queryset = Enterprise.objects.restrict(request.user).select_related("region")
    filterset = EnterpriseFilter(request.GET, queryset=queryset)
    return render(
        request,
        "enterprises/enterprise_list.html",
        {"filter": filterset, "page": paginate(request, filterset.qs)},
    )


@login_required
def enterprise_detail(request, pk):
    enterprise = get_enterprise_for_user(request, pk)
    legal_rep, phone = personal_fields(enterprise, request.user)
    context = {
        "enterprise": enterprise,
        "legal_rep": legal_rep,
        "phone": phone,
        "census_records": enterprise.census_records.select_related("batch")[:10],
        "tax_records": enterprise.tax_records.select_related("batch")[:10],
        "negative_entries": enterprise.negative_entries.select_related("batch")[:20],
        "credit_snapshots": enterprise.credit_snapshots.select_related("bank", "batch")[:20],
        "loans": enterprise.loans.select_related("bank")[:20],
    }
    return render(request, "enterprises/enterprise_detail.html", context)
