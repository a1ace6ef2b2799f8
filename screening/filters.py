"""List filters shared by the browse page, the export and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from enterprises.choices import EntityType, TaxCreditRating
from enterprises.models import Region

from .choices import BANK_COUNT_BANDS
from .models import ListExclusion, ListMembership

BAND_RANGES = {"0": (0, 0), "1": (1, 1), "2-3": (2, 3), "4+": (4, 32767)}


def in_region(queryset, name, value):
    # Region codes nest by prefix, so a county matches its townships too.
    region = Region.objects.filter(code=value.strip()).first()
    if region is None:
        return queryset.none()
    return queryset.filter(enterprise__region__code__startswith=region.scope_prefix)


def search(queryset, name, value):
    value = value.strip()
    if len(value) == 18:
        return queryset.filter(
            Q(enterprise__uscc=value.upper()) | Q(enterprise__name__contains=value)
        )
    return queryset.filter(enterprise__name__contains=value)


class MembershipFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method=lambda qs, n, v: search(qs, n, v), label=_("Name or USCC"))
    region = django_filters.CharFilter(
        method=lambda qs, n, v: in_region(qs, n, v), label=_("Region code")
    )
    tier = django_filters.ChoiceFilter(choices=[(1, "1"), (2, "2"), (3, "3")], label=_("Tier"))
    batch = django_filters.NumberFilter(field_name="batch_no", label=_("Batch"))
    entity_type = django_filters.ChoiceFilter(
        field_name="enterprise__entity_type", choices=EntityType.choices, label=_("Entity type")
    )
    rating = django_filters.ChoiceFilter(choices=TaxCreditRating.choices, label=_("Rating"))
    banks = django_filters.ChoiceFilter(
        choices=BANK_COUNT_BANDS, method="in_band", label=_("Lending banks")
    )

    class Meta:
        model = ListMembership
        fields = ["q", "region", "tier", "batch", "entity_type", "rating", "banks"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("tier", "entity_type", "rating", "banks"):
            field = self.form.fields[name]
            field.widget.attrs["class"] = "form-select form-select-sm"
            field.empty_label = field.label

    def in_band(self, queryset, name, value):
        low, high = BAND_RANGES[value]
        return queryset.filter(bank_count__gte=low, bank_count__lte=high)


class ExclusionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method=lambda qs, n, v: search(qs, n, v), label=_("Name or USCC"))
    region = django_filters.CharFilter(
        method=lambda qs, n, v: in_region(qs, n, v), label=_("Region code")
    )
    entity_type = django_filters.ChoiceFilter(
        field_name="enterprise__entity_type", choices=EntityType.choices, label=_("Entity type")
    )
    repairable = django_filters.BooleanFilter(label=_("Repairable"))

    class Meta:
        model = ListExclusion
        fields = ["q", "region", "entity_type", "repairable"]
