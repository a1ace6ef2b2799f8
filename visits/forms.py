"""The visit form (phone-first): every field a township worker or bank officer fills on site."""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Intent, NeedPurpose, ProblemType, VisitMethod, VisitRound, guarantee_choices
from .services.visits import clean_visit_fields, visitable_enterprises

YES_NO = [("true", _("Yes")), ("false", _("No"))]


def _to_bool(value):
    return {"true": True, "false": False}.get(value)


class VisitForm(forms.Form):
    """Fields of a visit; ``clean`` applies the service's rules (visits.services.visits) so
    the page shows the same Chinese messages the service would raise."""

    round = forms.ChoiceField(
        label=_("Round"),
        choices=VisitRound.choices,
        widget=forms.RadioSelect,
        initial=VisitRound.FIRST,
        error_messages={"required": _("Choose the round of the visit.")},
    )
    visited_on = forms.DateField(
        label=_("Visit date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter the visit date."),
            "invalid": _("Enter a date such as 2025-06-30."),
        },
    )
    method = forms.ChoiceField(
        label=_("Method"),
        choices=VisitMethod.choices,
        widget=forms.RadioSelect,
        initial=VisitMethod.ON_SITE,
        error_messages={"required": _("Choose how the visit was made.")},
    )
    township_worker_name = forms.CharField(
        label=_("Township worker"), max_length=100, required=False
    )
    bank_officer_name = forms.CharField(label=_("Bank officer"), max_length=100, required=False)
    operating_normally = forms.TypedChoiceField(
        label=_("Operating normally"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        coerce=_to_bool,
        empty_value=None,
        required=False,
    )
    has_need = forms.TypedChoiceField(
        label=_("Financing need"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        coerce=_to_bool,
        empty_value=None,
        error_messages={"required": _("Say whether the enterprise has a financing need.")},
    )
    need_amount = forms.DecimalField(
        label=_("Amount needed (10k yuan)"),
        max_digits=20,
        decimal_places=6,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any", "min": "0"}),
        error_messages={"invalid": _("Enter the amount as a number of 10k yuan, e.g. 200.")},
    )
    need_purpose = forms.ChoiceField(
        label=_("Purpose"), choices=NeedPurpose.choices, widget=forms.RadioSelect, required=False
    )
    need_term_months = forms.IntegerField(
        label=_("Term (months)"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1"}),
        error_messages={"invalid": _("Enter the term as a whole number of months.")},
    )
    acceptable_guarantees = forms.MultipleChoiceField(
        label=_("Acceptable guarantee"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    intent = forms.ChoiceField(
        label=_("Intent"), choices=Intent.choices, widget=forms.RadioSelect, required=False
    )
    problems = forms.MultipleChoiceField(
        label=_("Problems needing coordination"),
        choices=ProblemType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    note = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    next_visit_on = forms.DateField(
        label=_("Next visit due on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date such as 2025-06-30.")},
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["acceptable_guarantees"].choices = guarantee_choices()
        self.fields["visited_on"].initial = timezone.localdate
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
                widget.attrs["class"] = "btn-check"  # shown as big toggle buttons
            else:
                widget.attrs["class"] = "form-control form-control-lg"

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned.update(clean_visit_fields(cleaned))
        except forms.ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field not in self.errors:
                    self.add_error(field if field in self.fields else None, messages)
        return cleaned


class NewVisitForm(VisitForm):
    """A new visit: the enterprise (by USCC, picked by search) and the draft's ``client_key``."""

    enterprise = forms.CharField(
        label=_("Enterprise"),
        widget=forms.HiddenInput,
        error_messages={"required": _("Choose the enterprise visited.")},
    )
    enterprise_q = forms.CharField(label=_("Enterprise"), required=False)
    client_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    field_order = ["enterprise_q", "enterprise"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client_key"].initial = uuid.uuid4

    def clean_enterprise(self):
        uscc = self.cleaned_data["enterprise"].strip().upper()
        enterprise = visitable_enterprises(self.user).filter(uscc=uscc).first()
        if enterprise is None:
            raise forms.ValidationError(
                _("Choose an enterprise you may visit (search by name or credit code).")
            )
        return enterprise


class EditVisitForm(VisitForm):
    """An edit: carries the version it was read at (optimistic locking, core/locking.py)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
