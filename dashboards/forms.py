"""Parameters of a dashboard or stats request: region, period, grouping — validated and scoped."""

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.filters import region_choices
from enterprises.models import Region

from .services import GROUP_BY_CHOICES

# Periods are computed with a year before the start and a day after the end; these bounds
# keep every such date valid (year 1 or 9999 would raise) and cover every plausible record.
EARLIEST = date(1900, 1, 1)
LATEST = date(2099, 12, 31)


def validate_in_range(day):
    if not EARLIEST <= day <= LATEST:
        raise forms.ValidationError(
            _("Give a date between %(earliest)s and %(latest)s."),
            params={"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
        )


class StatsParamsForm(forms.Form):
    region = forms.CharField(label=_("Region"), required=False, max_length=12)
    start = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        validators=[validate_in_range],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        validators=[validate_in_range],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    group_by = forms.ChoiceField(
        label=_("Group by"),
        required=False,
        choices=[("", "—")] + [(g, g) for g in GROUP_BY_CHOICES],
    )

    def __init__(self, data, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        # A picker of the user's own regions (the empty choice: the user's whole area).
        self.fields["region"].widget = forms.Select(
            choices=lambda: [("", _("Your whole area")), *region_choices(user)],
            attrs={"class": "form-select form-select-sm"},
        )
        for name in ("start", "end"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-sm"

    def clean_region(self):
        code = (self.cleaned_data.get("region") or "").strip()
        if not code:
            return default_region(self.user)
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise forms.ValidationError(_("Unknown region code: %(code)s."), params={"code": code})
        return region

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        end = cleaned.get("end") or today
        start = cleaned.get("start") or date(end.year, 1, 1)
        if "start" in self.errors or "end" in self.errors:
            return cleaned
        if start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        if (end - start).days > 366 * 10:
            raise forms.ValidationError(_("The period may span at most ten years."))
        cleaned["start"], cleaned["end"] = start, end
        cleaned["group_by"] = cleaned.get("group_by") or None
        return cleaned


def default_region(user):
    """The user's own region; users without one (bank officers, admins) start at the top."""
    if getattr(user, "region_id", None):
        return user.region
    return Region.objects.filter(parent__isnull=True).order_by("code").first()


def region_in_scope(user, region):
    """May ``user`` see figures of ``region``? (Its whole area must lie inside the user's.)"""
    scope = user.scope
    if not scope.allows("view"):
        return False
    if scope.everything or scope.region_prefix is None:
        return True
    return region.scope_prefix.startswith(scope.region_prefix)
