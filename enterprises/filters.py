import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import EnterpriseSize, EntityType, RegistrationStatus
from .models import Enterprise


class EnterpriseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Name or USCC"))
    region = django_filters.CharFilter(method="in_region", label=_("Region code"))
    entity_type = django_filters.ChoiceFilter(choices=EntityType.choices, label=_("Entity type"))
    status = django_filters.ChoiceFilter(
        choices=RegistrationStatus.choices, label=_("Registration status")
    )
    size = django_filters.ChoiceFilter(choices=EnterpriseSize.choices, label=_("Size"))

    class Meta:
        model = Enterprise
        fields = ["q", "region", "entity_type", "status", "size"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("entity_type", "status", "size"):
            self.form.fields[name].widget.attrs["class"] = "form-select form-select-sm"
            self.form.fields[name].empty_label = self.form.fields[name].label

    def search(self, queryset, name, value):
        value = value.strip().upper() if len(value.strip()) == 18 else value.strip()
        return queryset.filter(Q(uscc=value) | Q(name__contains=value))

    def in_region(self, queryset, name, value):
        # Region codes nest by prefix, so a county matches its townships too.
        from .models import Region

        region = Region.objects.filter(code=value.strip()).first()
        if region is None:
            return queryset.none()
        return queryset.filter(region__code__startswith=region.scope_prefix)
