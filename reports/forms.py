"""Forms of the reports pages: they parse the input; reports.services judges it."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class InterimReportForm(forms.Form):
    """The language of the report and an optional data cut (read at the study's wall clock)."""

    language = forms.ChoiceField(label=_("Language of the report"), choices=settings.LANGUAGES)
    cut = forms.DateTimeField(
        label=_("Data cut"),
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text=_("Leave empty for the moment the report is built. Not in the future."),
    )
