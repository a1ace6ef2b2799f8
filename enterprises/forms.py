from pathlib import Path

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .choices import ImportKind


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of data"), choices=ImportKind.choices)
    file = forms.FileField(label=_("File (.xlsx or .csv)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than the limit of {mb} MB.").format(
                    mb=settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024)
                )
            )
        if Path(upload.name).suffix.lower() not in (".xlsx", ".csv"):
            raise forms.ValidationError(_("Use an .xlsx or .csv file."))
        return upload
