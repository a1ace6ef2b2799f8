"""Forms of the bank officer's credit approvals, loans and renewal contacts (phone friendly:
one column, native date inputs, numeric keyboards)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from banks.models import Bank
from enterprises.models import Enterprise

from .choices import ContactOutcome, Guarantee, LoanProduct
from .models import Loan

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
AMOUNT_INPUT = forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"})


def _blank(choices):
    return [("", "---------"), *choices]


class PartiesForm(forms.Form):
    """The enterprise (one of the user's) and the branch (one of the user's)."""

    enterprise = forms.ModelChoiceField(queryset=Enterprise.objects.none(), label=_("Enterprise"))
    bank = forms.ModelChoiceField(queryset=Bank.objects.none(), label=_("Bank branch"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["enterprise"].queryset = Enterprise.objects.restrict(user, "report").order_by(
            "name"
        )
        codes = user.scope.bank_codes
        banks = Bank.objects.all() if codes is None else Bank.objects.filter(code__in=codes)
        self.fields["bank"].queryset = banks.order_by("code")
        if user.bank_id and not self.is_bound:
            self.fields["bank"].initial = user.bank_id
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class ApprovalForm(PartiesForm):
    approval_no = forms.CharField(label=_("Approval number"), max_length=64)
    approved_on = forms.DateField(label=_("Approved on"), widget=DATE)
    amount = forms.DecimalField(
        label=_("Amount (10k yuan)"), max_digits=16, decimal_places=2, widget=AMOUNT_INPUT
    )
    product = forms.ChoiceField(
        label=_("Product"), choices=_blank(LoanProduct.choices), required=False
    )
    term_months = forms.IntegerField(
        label=_("Term (months)"),
        min_value=1,
        max_value=360,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1", "max": "360"}),
    )
    guarantee = forms.ChoiceField(
        label=_("Guarantee"), choices=_blank(Guarantee.choices), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["approved_on"].initial = timezone.localdate()
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class LoanForm(PartiesForm):
    loan_no = forms.CharField(label=_("Loan number"), max_length=64)
    disbursed_on = forms.DateField(label=_("Disbursed on"), widget=DATE)
    matures_on = forms.DateField(label=_("Matures on"), widget=DATE)
    amount = forms.DecimalField(
        label=_("Amount (10k yuan)"), max_digits=16, decimal_places=2, widget=AMOUNT_INPUT
    )
    balance = forms.DecimalField(
        label=_("Balance (10k yuan)"),
        max_digits=16,
        decimal_places=2,
        required=False,
        widget=AMOUNT_INPUT,
    )
    product = forms.ChoiceField(label=_("Product"), choices=_blank(LoanProduct.choices))
    guarantee = forms.ChoiceField(label=_("Guarantee"), choices=_blank(Guarantee.choices))
    rate = forms.DecimalField(
        label=_("Annual rate (%)"),
        max_digits=8,
        decimal_places=4,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.0001"}),
    )
    renews = forms.ModelChoiceField(
        queryset=Loan.objects.none(),
        label=_("Renews loan (renewal without principal repayment)"),
        required=False,
        help_text=_("Only for a renewal without principal repayment: the loan it continues."),
    )

    def __init__(self, *args, enterprise=None, exclude_loan=None, **kwargs):
        super().__init__(*args, **kwargs)
        loans = Loan.objects.restrict(self.user, "report").order_by("-disbursed_on")
        if enterprise is not None:
            loans = loans.filter(enterprise=enterprise)
        if exclude_loan is not None:
            loans = loans.exclude(pk=exclude_loan.pk)
        self.fields["renews"].queryset = loans
        self.fields["renews"].label_from_instance = lambda loan: (
            f"{loan.loan_no} · {loan.disbursed_on:%Y-%m-%d} → {loan.matures_on:%Y-%m-%d}"
        )
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class ContactForm(forms.Form):
    contacted_on = forms.DateField(label=_("Contacted on"), widget=DATE)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=_blank(ContactOutcome.choices))
    note = forms.CharField(
        label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["contacted_on"].initial = timezone.localdate()
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
