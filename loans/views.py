"""The bank officer's screens: record a credit approval or a loan (from the workspace or an
enterprise's page), change or delete it, and the maturity watch with its contact form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.views import paginate
from core.writes import OutOfScope
from enterprises.models import Enterprise

from .forms import ApprovalForm, ContactForm, LoanForm
from .models import CreditApproval, Loan, MaturityWatch
from .services import records
from .services.watch import record_contact


def _reporter(request):
    if not request.user.scope.allows("report"):
        raise PermissionDenied(_("Only bank officers record credit and loans."))


def _enterprise_from_query(request):
    pk = request.GET.get("enterprise") or request.POST.get("enterprise")
    if not pk or not str(pk).isdigit():
        return None
    return Enterprise.objects.restrict(request.user, "report").filter(pk=pk).first()


def _after(enterprise):
    if enterprise is not None:
        return reverse("enterprises:detail", args=[enterprise.pk])
    return reverse("banks:workspace")


def _save(form, save):
    """Run the service; put its field errors on the form (everything typed is kept)."""
    try:
        return save()
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            field = field if field in form.fields else None
            for error in errors:
                form.add_error(field, error)
    except OutOfScope as exc:
        form.add_error(None, str(exc))
    return None


@login_required
def approval_form(request, pk=None):
    _reporter(request)
    user = request.user
    instance = None
    if pk is not None:
        instance = get_object_or_404(CreditApproval.objects.restrict(user, "report"), pk=pk)
    initial = {}
    if instance is not None:
        initial = {f: getattr(instance, f) for f in records.APPROVAL_FIELDS}
        initial.update(enterprise=instance.enterprise_id, bank=instance.bank_id)
    elif (enterprise := _enterprise_from_query(request)) is not None:
        initial["enterprise"] = enterprise.pk
    form = ApprovalForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        approval = _save(
            form, lambda: records.record_approval(user, form.cleaned_data, instance=instance)
        )
        if approval is not None:
            messages.success(
                request, _("Credit approval %(no)s saved.") % {"no": approval.approval_no}
            )
            return redirect(_after(approval.enterprise))
    context = {"form": form, "instance": instance, "title": _("Record a credit approval")}
    return render(request, "loans/approval_form.html", context)


@login_required
def loan_form(request, pk=None):
    _reporter(request)
    user = request.user
    instance = None
    if pk is not None:
        instance = get_object_or_404(Loan.objects.restrict(user, "report"), pk=pk)
    enterprise = instance.enterprise if instance else _enterprise_from_query(request)
    initial = {}
    if instance is not None:
        initial = {f: getattr(instance, f) for f in records.LOAN_FIELDS}
        initial.update(
            enterprise=instance.enterprise_id, bank=instance.bank_id, renews=instance.renews_id
        )
    else:
        if enterprise is not None:
            initial["enterprise"] = enterprise.pk
        renews = request.GET.get("renews")
        if renews and renews.isdigit():
            original = Loan.objects.restrict(user, "report").filter(pk=renews).first()
            if original is not None:
                initial.update(
                    renews=original.pk,
                    enterprise=original.enterprise_id,
                    bank=original.bank_id,
                    product=original.product,
                    guarantee=original.guarantee,
                    disbursed_on=original.matures_on,
                    amount=original.balance or original.amount,
                )
    form = LoanForm(
        request.POST or None,
        user=user,
        initial=initial,
        enterprise=enterprise,
        exclude_loan=instance,
    )
    if request.method == "POST" and form.is_valid():
        loan = _save(form, lambda: records.record_loan(user, form.cleaned_data, instance=instance))
        if loan is not None:
            messages.success(request, _("Loan %(no)s saved.") % {"no": loan.loan_no})
            return redirect(_after(loan.enterprise))
    title = _("Change the loan") if instance else _("Record a loan")
    return render(
        request, "loans/loan_form.html", {"form": form, "instance": instance, "title": title}
    )


@login_required
@require_POST
def loan_delete(request, pk):
    _reporter(request)
    loan = get_object_or_404(Loan.objects.restrict(request.user, "report"), pk=pk)
    records.delete_loan(request.user, loan)
    messages.success(request, _("Loan %(no)s deleted.") % {"no": loan.loan_no})
    return redirect(_after(loan.enterprise))


@login_required
@require_POST
def approval_delete(request, pk):
    _reporter(request)
    approval = get_object_or_404(CreditApproval.objects.restrict(request.user, "report"), pk=pk)
    records.delete_approval(request.user, approval)
    messages.success(request, _("Credit approval %(no)s deleted.") % {"no": approval.approval_no})
    return redirect(_after(approval.enterprise))


@login_required
def watch_list(request):
    """到期前一个月未联系: the user's loans maturing soon without a renewal contact."""
    user = request.user
    if not user.scope.allows("view"):
        raise PermissionDenied
    rows = (
        MaturityWatch.objects.restrict(user)
        .select_related("loan", "enterprise", "bank")
        .order_by("matures_on", "loan_id")
    )
    page = paginate(request, rows)
    today = timezone.localdate()
    for row in page.object_list:
        row.days_left = (row.matures_on - today).days
    context = {
        "page": page,
        "may_record": user.scope.allows("report") and user.scope.bank_codes is not None,
        "form": ContactForm(),
    }
    return render(request, "loans/watch_list.html", context)


@login_required
def contact_form(request, pk):
    """Record the renewal contact of one loan (from the watch list or the enterprise page)."""
    _reporter(request)
    loan = get_object_or_404(
        Loan.objects.restrict(request.user, "report").select_related("enterprise", "bank"), pk=pk
    )
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact = _save(form, lambda: record_contact(request.user, loan, form.cleaned_data))
        if contact is not None:
            messages.success(
                request, _("Contact with %(name)s recorded.") % {"name": loan.enterprise.name}
            )
            target = request.POST.get("next")
            if target == "enterprise":
                return redirect(_after(loan.enterprise))
            return redirect("loans:watch")
    return render(request, "loans/contact_form.html", {"form": form, "loan": loan})
