import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from .choices import EnterpriseSize, EntityType, RegionLevel, RegistrationStatus
from .models import Enterprise, Region

ALL = _("All")


def region_choices(user):
    """(code, name) of the cities, counties and townships ``user`` may pick, in code order.

    A user with a region gets it and the regions inside it; a bank officer the townships its
    enterprises are in (and their counties); someone who sees everything every one. Each
    region is indented under its parent when the parent is listed.
    """
    regions = Region.objects.restrict(user).filter(
        level__in=[RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP]
    )
    scope = user.scope
    if scope.everything:
        pass
    elif scope.region_prefix is not None:
        regions = regions.filter(code__startswith=scope.region_prefix)
    elif scope.bank_codes is not None:
        townships = set(Enterprise.objects.restrict(user).values_list("region_id", flat=True))
        counties = set(
            Region.objects.filter(code__in=townships).values_list("parent_id", flat=True)
        )
        regions = regions.filter(code__in=townships | counties)
    else:
        return []
    depth, choices = {}, []
    for code, name, parent in regions.order_by("code").values_list("code", "name", "parent_id"):
        depth[code] = depth[parent] + 1 if parent in depth else 0
        choices.append((code, "\u3000" * depth[code] + name))
    return choices


def in_region(queryset, code, path=""):
    """Rows whose enterprise (reached by ``path``) lies in region ``code`` or below it."""
    region = Region.objects.filter(code=code).first()
    if region is None:
        return queryset.none()
    # Region codes nest by prefix, so a county matches its townships too.
    return queryset.filter(**{f"{path}region__code__startswith": region.scope_prefix})


class ScopedFilterSet(django_filters.FilterSet):
    """Filters with a label and an "All" choice each, and a region picker of the user's regions.

    A value the form rejects (say a region outside the user's area) is shown as a form error
    and matches nothing: the page never falls back to the unfiltered list.
    """

    region = django_filters.ChoiceFilter(
        method="filter_region",
        label=_("Region"),
        empty_label=ALL,
        error_messages={
            "invalid_choice": _("%(value)s is not a region in your area."),
        },
    )
    region_path = ""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self.filters["region"].extra["choices"] = lambda: region_choices(user)
        else:
            self.filters["region"].extra["choices"] = lambda: list(
                Region.objects.order_by("code").values_list("code", "name")
            )
        for flt in self.filters.values():
            if isinstance(flt, django_filters.ChoiceFilter):
                flt.extra["empty_label"] = ALL
            # The copied filter may carry a form field built before (say by the API schema):
            # drop it so the field is built from this request's choices.
            vars(flt).pop("_field", None)

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            for field in form.fields.values():
                widget = field.widget
                css = "form-select" if isinstance(widget, forms.Select) else "form-control"
                widget.attrs.setdefault("class", f"{css} {css}-sm")
        return self._form

    @property
    def qs(self):
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return super().qs

    def filter_region(self, queryset, name, value: str):  # the hint names the type in the schema
        return in_region(queryset, value, self.region_path)


class EnterpriseFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Name or USCC"))
    entity_type = django_filters.ChoiceFilter(choices=EntityType.choices, label=_("Entity type"))
    status = django_filters.ChoiceFilter(
        choices=RegistrationStatus.choices, label=_("Registration status")
    )
    size = django_filters.ChoiceFilter(choices=EnterpriseSize.choices, label=_("Size"))
    bank = django_filters.ChoiceFilter(
        method="filter_bank",
        label=_("Tie to your bank"),
        choices=[
            ("assigned", _("Assigned to your bank")),
            ("borrowing", _("Borrowing from your bank")),
            ("credit", _("Holding credit at your bank")),
        ],
    )

    class Meta:
        model = Enterprise
        fields = ["q", "region", "entity_type", "status", "size", "bank"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        scope = user.scope if user is not None and user.is_authenticated else None
        if scope is None or scope.bank_codes is None:
            del self.filters["bank"]  # only a bank's own users have a "your bank"

    def search(self, queryset, name, value):
        value = value.strip().upper() if len(value.strip()) == 18 else value.strip()
        return queryset.filter(Q(uscc=value) | Q(name__contains=value))

    def filter_bank(self, queryset, name, value):
        # The user's branches and those below them (the filter exists only for bank users).
        from .models import ENTERPRISE_BANK_LINKS

        model = ENTERPRISE_BANK_LINKS[value]
        rows = model.objects.filter(enterprise=OuterRef("pk"))
        codes = self.request.user.scope.bank_codes
        return queryset.filter(Exists(rows.filter(bank_id__in=list(codes))))
