from django import forms
from django.utils.translation import gettext_lazy as _

from enterprises.choices import RegionLevel, TaxCreditRating
from enterprises.models import Region

from .choices import CreditProduct, DeclineReason, FeedbackStatus, FocusArea
from .models import Bank
from .services.batches import HAS_LOAN, NO_LOAN

TIER_CHOICES = [(1, _("Tier 1")), (2, _("Tier 2")), (3, _("Tier 3"))]
LOAN_CHOICES = [("", _("Either")), (NO_LOAN, _("No-loan only")), (HAS_LOAN, _("Has-loan only"))]


class VisitBatchForm(forms.Form):
    """The cut of a county's key-visit list; ``criteria()`` gives what the batch records."""

    name = forms.CharField(label=_("Batch name"), max_length=100)
    tiers = forms.TypedMultipleChoiceField(
        label=_("Tiers"),
        choices=TIER_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    ratings = forms.MultipleChoiceField(
        label=_("Tax credit ratings"),
        choices=TaxCreditRating.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    loan = forms.ChoiceField(label=_("Loans"), choices=LOAN_CHOICES, required=False)
    banks_min = forms.IntegerField(label=_("Lending banks, at least"), min_value=0, required=False)
    banks_max = forms.IntegerField(label=_("Lending banks, at most"), min_value=0, required=False)
    townships = forms.ModelMultipleChoiceField(
        label=_("Townships"),
        queryset=Region.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    foreign_trade = forms.BooleanField(label=_("Foreign trade only"), required=False)

    def __init__(self, county, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["townships"].queryset = Region.objects.filter(
            parent=county, level=RegionLevel.TOWNSHIP
        ).order_by("code")

    def clean(self):
        data = super().clean()
        low, high = data.get("banks_min"), data.get("banks_max")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError(_("The minimum number of banks is above the maximum."))
        return data

    def criteria(self):
        data = self.cleaned_data
        criteria = {
            "tiers": sorted(data["tiers"]),
            "ratings": sorted(data["ratings"]),
            "loan": data["loan"],
            "banks_min": data["banks_min"],
            "banks_max": data["banks_max"],
            "townships": sorted(region.code for region in data["townships"]),
            "foreign_trade": data["foreign_trade"],
        }
        return {key: value for key, value in criteria.items() if value not in ("", [], None)}


class OverrideForm(forms.Form):
    bank = forms.ModelChoiceField(label=_("New branch"), queryset=Bank.objects.none())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, candidates, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = candidates


class BranchForm(forms.Form):
    service_regions = forms.ModelMultipleChoiceField(
        label=_("Service regions"),
        queryset=Region.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 12}),
    )
    capacity = forms.IntegerField(label=_("Visit capacity"), min_value=0, required=False)
    focus_areas = forms.MultipleChoiceField(
        label=_("Focus areas"),
        choices=FocusArea.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    contact = forms.CharField(label=_("Task-force contact"), max_length=100, required=False)

    def __init__(self, regions, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_regions"].queryset = regions


class FeedbackForm(forms.Form):
    """A bank's answer on one of its enterprises (the rules are the service's:
    banks.services.feedback.validate_feedback, so the page, the row and the API agree)."""

    status = forms.ChoiceField(label=_("Feedback"), choices=FeedbackStatus.choices)
    decline_reason = forms.ChoiceField(
        label=_("Reason credit was declined"),
        choices=[("", "—"), *DeclineReason.choices],
        required=False,
        help_text=_("Required with 'Credit declined'."),
    )
    reason = forms.CharField(
        label=_("Explanation or note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required with 'Credit declined'."),
    )
    credit_amount = forms.DecimalField(
        label=_("Credit granted (10k yuan)"),
        required=False,
        max_digits=20,
        decimal_places=6,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
        help_text=_("Required with 'Credit granted'."),
    )
    credit_product = forms.ChoiceField(
        label=_("Credit product"),
        choices=[("", "—"), *CreditProduct.choices],
        required=False,
        help_text=_("Required with 'Credit granted'."),
    )
    materials_complete = forms.BooleanField(
        label=_("Application materials complete (材料齐全)"),
        required=False,
        help_text=_(
            "With 'Application accepted': starts the clock for the credit decision "
            "(today plus the county's days)."
        ),
    )
