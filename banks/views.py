from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from core.views import paginate

from .models import Bank


@login_required
def bank_list(request):
    queryset = Bank.objects.restrict(request.user).select_related("parent")
    return render(request, "banks/bank_list.html", {"page": paginate(request, queryset)})
