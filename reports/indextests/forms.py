"""Forms of the model-output pages: they parse the input; services.py judges it."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ModelImportForm(forms.Form):
    csv = forms.FileField(
        label=_("CSV file of model outputs"),
        help_text=_(
            "UTF-8 (with or without a byte-order mark). Columns: study_id, level, model, version, split, and "
            "probability and/or dice. The whole file is checked: if any line is wrong, nothing is imported."
        ),
    )


class AnalysisLockForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for locking"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class HeatmapForm(forms.Form):
    heatmap = forms.FileField(label=_("Grad-CAM heatmap (PNG or JPEG)"))
