"""django-filter filter sets of the visits API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from ..choices import ApplicationStatus, ItemLevel, ItemStatus, ProblemType, VisitRound
from ..models import Application, CoordinationItem, Recommendation, Visit


def region_filter():
    return django_filters.CharFilter(
        field_name="enterprise__region__code",
        lookup_expr="startswith",
        label=_("Region code (its enterprises and those of the regions below it)"),
    )


class VisitFilter(django_filters.FilterSet):
    region = region_filter()
    enterprise_uscc = django_filters.CharFilter(field_name="enterprise__uscc")
    round = django_filters.ChoiceFilter(choices=VisitRound.choices)
    visited_after = django_filters.DateFilter(field_name="visited_on", lookup_expr="gte")
    visited_before = django_filters.DateFilter(field_name="visited_on", lookup_expr="lte")

    class Meta:
        model = Visit
        fields = ["region", "enterprise_uscc", "round", "bank", "has_need", "status"]


class CoordinationItemFilter(django_filters.FilterSet):
    region = region_filter()
    enterprise_uscc = django_filters.CharFilter(field_name="enterprise__uscc")
    status = django_filters.ChoiceFilter(choices=ItemStatus.choices)
    problem = django_filters.ChoiceFilter(choices=ProblemType.choices)
    level = django_filters.ChoiceFilter(choices=ItemLevel.choices)

    class Meta:
        model = CoordinationItem
        fields = ["region", "enterprise_uscc", "status", "problem", "level", "owner_bank", "owner"]


class ApplicationFilter(django_filters.FilterSet):
    region = region_filter()
    status = django_filters.ChoiceFilter(choices=ApplicationStatus.choices)

    class Meta:
        model = Application
        fields = ["region", "status"]


class RecommendationFilter(django_filters.FilterSet):
    region = region_filter()
    recommended_after = django_filters.DateFilter(field_name="recommended_on", lookup_expr="gte")
    recommended_before = django_filters.DateFilter(field_name="recommended_on", lookup_expr="lte")
    pushed = django_filters.BooleanFilter(
        field_name="recommended_on",
        lookup_expr="isnull",
        exclude=True,
        label=_("Pushed to the bank (has a recommendation date)"),
    )

    class Meta:
        model = Recommendation
        fields = ["region", "bank", "recommended_after", "recommended_before", "pushed"]
