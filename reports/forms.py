"""Forms of the reports pages: they parse the input; reports.services judges it."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .exports.formats import (
    ANALYSIS,
    CSV,
    CSV_LABELS,
    DTA,
    FORMATS,
    LONG,
    ODM,
    REDCAP,
    SAV,
    XLSX,
)


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


class AccuracyReportForm(forms.Form):
    """The accuracy report's language, interval and file (reports.stard.report judges them)."""

    language = forms.ChoiceField(label=_("Language of the report"), choices=settings.LANGUAGES)
    interval = forms.ChoiceField(
        label=_("Interval of the proportions"),
        choices=[("wilson", _("Wilson")), ("clopper-pearson", _("Clopper-Pearson (exact)"))],
        help_text=_("Of sensitivity, specificity, accuracy, PPV and NPV; the AUC's is DeLong's."),
    )
    format = forms.ChoiceField(
        label=_("File"),
        choices=[("pdf", _("PDF")), ("json", _("JSON (every estimate with its interval)"))],
    )


# The datasets' short names (formats.DATASETS says what each holds, as the page's explanations do).
DATASET_NAMES = {ANALYSIS: _("Analysis dataset"), LONG: _("Long tables")}


class ExportForm(forms.Form):
    """An export's format and options (reports.services.export_request judges them together)."""

    format = forms.ChoiceField(label=_("Format"), choices=list(FORMATS.items()), widget=forms.RadioSelect)
    dataset = forms.ChoiceField(
        label=_("Dataset"), choices=list(DATASET_NAMES.items()), required=False, widget=forms.RadioSelect
    )
    deidentify = forms.BooleanField(label=_("De-identified"), required=False)
    bom = forms.BooleanField(label=_("Byte-order mark for Excel"), required=False)
    language = forms.ChoiceField(
        label=_("Language of the labels"),
        choices=settings.LANGUAGES,
        help_text=_(
            "Of the labels in CSV with labels, Excel, Stata and SPSS, and of the manifest. ODM carries both."
        ),
    )

    # One line each that a data manager reads before choosing (the page shows them beside the choices).
    format_help = {
        CSV: _(
            "Comma-separated files with the stored codes (e.g. never, PKP) and 1/0, for R, Python or SAS."
        ),
        CSV_LABELS: _("The same files with each code's label in the chosen language, to read by eye."),
        XLSX: _(
            "Excel workbooks, one sheet per table, with each column's label in the chosen language, to check "
            "and share in Excel or WPS."
        ),
        DTA: _("Stata files with variable labels and value labels."),
        SAV: _("SPSS files with variable labels and value labels."),
        REDCAP: _("A CSV that a REDCap project built from SpineTrial's data dictionary imports unchanged."),
        ODM: _(
            "CDISC ODM XML for sponsors and registries: the forms in both languages, the data, and for each "
            "value who last changed it, when and why (from the audit trail)."
        ),
    }
    dataset_help = {
        ANALYSIS: _(
            "One row per participant, every field of every form and the derived values (BMI, ODI "
            "change, the endpoint…)."
        ),
        LONG: _(
            "A table per form (a row per record or repeating row), plus visits, questionnaires and "
            "adjudication verdicts."
        ),
    }
