from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import ImportKind
from .services.uploads import validate_upload


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of data"), choices=ImportKind.choices)
    file = forms.FileField(label=_("File (.xlsx or .csv)"))

    def clean_file(self):
        return validate_upload(self.cleaned_data["file"])
