"""Forms of the coordination-item and follow-up pages (the services check the rules again)."""

from django import forms
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from banks.models import Bank
from enterprises.choices import IndustrySection, RegionLevel
from enterprises.models import Region

from .choices import ItemLevel, ItemStatus, ProblemType
from .services.followups import TIERS, campaign_regions

# The status filter's default: what is still open (待处理 and 处理中).
OPEN_STATUSES = "unresolved"


def _small(widget):
    widget.attrs.setdefault("class", "form-select form-select-sm")
    return widget


def townships_in_scope(user):
    queryset = Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("code")
    scope = user.scope
    if scope.everything:
        return queryset
    if scope.region_prefix is None:
        return queryset.none()  # bank officers: their enterprises are anywhere
    return queryset.filter(code__startswith=scope.region_prefix)


class ItemFilterForm(forms.Form):
    """The filters of the item lists: problem, status, owner, level, township."""

    problem = forms.ChoiceField(
        label=_("Problem"), required=False, choices=[("", _("All")), *ProblemType.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[(OPEN_STATUSES, _("Not resolved")), ("all", _("All")), *ItemStatus.choices],
    )
    owner = forms.CharField(label=_("Owner"), required=False, max_length=100)
    level = forms.ChoiceField(
        label=_("Handled at"), required=False, choices=[("", _("All")), *ItemLevel.choices]
    )
    township = forms.ChoiceField(label=_("Township"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        townships = list(townships_in_scope(user).values_list("code", "name"))
        if townships:
            self.fields["township"].choices = [("", _("All")), *townships]
        else:  # a bank officer's enterprises are anywhere: no township to pick
            del self.fields["township"]
        for _name, field in self.fields.items():
            if isinstance(field.widget, forms.Select):
                _small(field.widget)
            else:
                field.widget.attrs.setdefault("class", "form-control form-control-sm")

    def apply(self, queryset):
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or OPEN_STATUSES
        if status == OPEN_STATUSES:
            queryset = queryset.exclude(status=ItemStatus.RESOLVED)
        elif status != "all":
            queryset = queryset.filter(status=status)
        if data.get("problem"):
            queryset = queryset.filter(problem=data["problem"])
        if data.get("level"):
            queryset = queryset.filter(level=data["level"])
        if data.get("township"):
            queryset = queryset.filter(enterprise__region_id=data["township"])
        owner = (data.get("owner") or "").strip()
        if owner:
            queryset = queryset.filter(
                Q(owner_department__icontains=owner) | Q(owner_bank__name__icontains=owner)
            )
        return queryset


class ItemForm(forms.Form):
    """An item's edit form; ``version`` is the version it was read at (optimistic locking)."""

    status = forms.ChoiceField(label=_("Status"), choices=ItemStatus.choices)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    resolution = forms.CharField(
        label=_("Resolution"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to mark the item resolved."),
    )
    due_on = forms.DateField(
        label=_("Due on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    owner_department = forms.CharField(
        label=_("Responsible department"), required=False, max_length=100
    )
    owner_bank = forms.ModelChoiceField(
        label=_("Responsible bank"), required=False, queryset=Bank.objects.order_by("code")
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, may_reassign=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_reassign:
            del self.fields["owner_department"]
            del self.fields["owner_bank"]
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")
            elif not isinstance(field.widget, forms.HiddenInput):
                field.widget.attrs.setdefault("class", "form-control")

    def data_for_service(self):
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if "owner_bank" in data:
            data["owner_bank"] = data["owner_bank"].pk if data["owner_bank"] else None
        return data


class EscalateForm(forms.Form):
    escalation_reason = forms.CharField(
        label=_("Why the county cannot solve it"),
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class CampaignForm(forms.Form):
    """Launch a second-round campaign (二次走访): the region, what to visit, by when."""

    name = forms.CharField(label=_("Name"), max_length=200)
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.none())
    section = forms.ChoiceField(
        label=_("Sector"), required=False, choices=[("", _("All")), *IndustrySection.choices]
    )
    tiers = forms.TypedMultipleChoiceField(
        label=_("Tiers"),
        required=False,
        coerce=int,
        choices=[(t, format_lazy(_("Tier {n}"), n=t)) for t in TIERS],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    township = forms.ChoiceField(label=_("Township"), required=False)
    due_on = forms.DateField(
        label=_("Visits due by"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = campaign_regions(user).exclude(level=RegionLevel.TOWNSHIP)
        self.fields["region"].queryset = regions
        if regions.count() == 1:
            self.fields["region"].initial = regions.first()
        self.fields["township"].choices = [
            ("", _("All")),
            *list(townships_in_scope(user).values_list("code", "name")),
        ]
        for name, field in self.fields.items():
            if name == "tiers":
                continue
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def criteria(self):
        data = self.cleaned_data
        return {
            "section": data.get("section") or "",
            "tiers": data.get("tiers") or [],
            "township": data.get("township") or "",
        }
