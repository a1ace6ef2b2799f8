"""List filters shared by the browse page, the export and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from enterprises.choices import EntityType, TaxCreditRating
from enterprises.filters import ALL, ScopedFilterSet

from .choices import BANK_COUNT_BANDS
from .models import ListExclusion, ListMembership

BAND_RANGES = {"0": (0, 0), "1": (1, 1), "2-3": (2, 3), "4+": (4, 32767)}
TIERS = [(1, _("Tier 1")), (2, _("Tier 2")), (3, _("Tier 3"))]


def search(queryset, name, value):
    value = value.strip()
    if len(value) == 18:
        return queryset.filter(
            Q(enterprise__uscc=value.upper()) | Q(enterprise__name__contains=value)
        )
    return queryset.filter(enterprise__name__contains=value)


class MembershipFilter(ScopedFilterSet):
    region_path = "enterprise__"
    q = django_filters.CharFilter(method=lambda qs, n, v: search(qs, n, v), label=_("Name or USCC"))
    tier = django_filters.ChoiceFilter(choices=TIERS, label=_("Tier"))
    batch = django_filters.NumberFilter(field_name="batch_no", label=_("Batch"))
    entity_type = django_filters.ChoiceFilter(
        field_name="enterprise__entity_type", choices=EntityType.choices, label=_("Entity type")
    )
    rating = django_filters.ChoiceFilter(
        choices=TaxCreditRating.choices, label=_("Tax credit rating")
    )
    banks = django_filters.ChoiceFilter(
        choices=BANK_COUNT_BANDS, method="in_band", label=_("Lending banks")
    )

    class Meta:
        model = ListMembership
        fields = ["q", "region", "tier", "batch", "entity_type", "rating", "banks"]

    def in_band(self, queryset, name, value):
        low, high = BAND_RANGES[value]
        return queryset.filter(bank_count__gte=low, bank_count__lte=high)


class ExclusionFilter(ScopedFilterSet):
    region_path = "enterprise__"
    q = django_filters.CharFilter(method=lambda qs, n, v: search(qs, n, v), label=_("Name or USCC"))
    entity_type = django_filters.ChoiceFilter(
        field_name="enterprise__entity_type", choices=EntityType.choices, label=_("Entity type")
    )
    repairable = django_filters.BooleanFilter(
        label=_("Repairable (one fixable reason away)"),
        widget=forms.Select(choices=[("", ALL), ("true", _("Yes")), ("false", _("No"))]),
    )

    class Meta:
        model = ListExclusion
        fields = ["q", "region", "entity_type", "repairable"]
