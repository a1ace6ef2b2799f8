"""/history/: the one change history of every tracked record, for administrators."""

from auditlog.models import LogEntry
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .history import ACTION_LABELS, HISTORY_PAGE_SIZE, annotate, is_tracked
from .views import paginate


def tracked_content_types():
    types = ContentType.objects.order_by("app_label", "model")
    return [ct for ct in types if ct.model_class() is not None and is_tracked(ct.model_class())]


class HistoryFilterForm(forms.Form):
    model = forms.ChoiceField(label=_("Record type"), required=False)
    user = forms.ModelChoiceField(
        label=_("Who"),
        queryset=get_user_model().objects.order_by("username"),
        required=False,
        empty_label=_("Everyone"),
    )
    action = forms.ChoiceField(label=_("Action"), required=False)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", _("All records"))] + [
            (str(ct.pk), str(ct.model_class()._meta.verbose_name)) for ct in tracked_content_types()
        ]
        self.fields["action"].choices = [("", _("All actions"))] + [
            (str(value), label) for value, label in ACTION_LABELS.items()
        ]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control form-control-sm")

    def filter(self, queryset):
        data = self.cleaned_data
        if data.get("model"):
            queryset = queryset.filter(content_type_id=data["model"])
        if data.get("user"):
            queryset = queryset.filter(actor=data["user"])
        if data.get("action") not in (None, ""):
            queryset = queryset.filter(action=int(data["action"]))
        if data.get("start"):
            queryset = queryset.filter(timestamp__date__gte=data["start"])
        if data.get("end"):
            queryset = queryset.filter(timestamp__date__lte=data["end"])
        return queryset


@login_required
def history_list(request):
    if not request.user.scope.everything:
        raise PermissionDenied(_("Only administrators see the change history."))
    form = HistoryFilterForm(request.GET or None)
    queryset = LogEntry.objects.select_related("actor", "content_type").order_by(
        "-timestamp", "-pk"
    )
    if form.is_bound and form.is_valid():
        queryset = form.filter(queryset)
    page = paginate(request, queryset, per_page=HISTORY_PAGE_SIZE)
    page.object_list = annotate(page.object_list)
    return render(request, "core/history_list.html", {"form": form, "page": page})
