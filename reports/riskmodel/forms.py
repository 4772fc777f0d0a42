"""Forms of the risk-model pages: they parse the input; services.py and the calculator judge it."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from trial.i18n import localized

from ..forms import DateTimeLocalInput
from .models import CohortSource
from .services import BOOTSTRAP_MAX, IMPUTATIONS_MAX, SEED_MAX


class DevelopForm(forms.Form):
    """Which specification, and the resamples, imputations and seed (empty: the spec's defaults)."""

    spec = forms.ChoiceField(label=_("Model specification"))
    name = forms.CharField(
        label=_("Model name"), max_length=120, required=False, help_text=_("Default: the spec's.")
    )
    bootstrap = forms.IntegerField(
        label=_("Bootstrap resamples"),
        required=False,
        max_value=BOOTSTRAP_MAX,
        help_text=_("At least 200 (Harrell's optimism correction). Default: the spec's."),
    )
    imputations = forms.IntegerField(
        label=_("Imputations"),
        required=False,
        min_value=1,
        max_value=IMPUTATIONS_MAX,
        help_text=_("Multiple imputation by chained equations, 1 to 50. Default: the spec's."),
    )
    seed = forms.IntegerField(
        label=_("Random seed"),
        required=False,
        min_value=0,
        max_value=SEED_MAX,
        help_text=_("The same seed and data give the same model and report. Default: the spec's."),
    )
    cut = forms.DateTimeField(
        label=_("Data cut"),
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text=_(
            "Empty for now. An earlier cut leaves the participants enrolled after it for a temporal "
            "validation."
        ),
    )
    language = forms.ChoiceField(label=_("Language of the report"), choices=settings.LANGUAGES)

    def __init__(self, *args, specs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["spec"].choices = [(s.file, f"{s.label} · {s.file}") for s in specs]


class FreezeForm(forms.Form):
    """The e-signature of a freeze (user ID at the first signature of the session, the password) and why."""

    reason = forms.CharField(
        label=_("Reason for freezing"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    username = forms.CharField(
        label=_("Your user ID"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, ask_user_id: bool = True, **kwargs):
        kwargs.setdefault("prefix", "freeze")
        super().__init__(*args, **kwargs)
        if not ask_user_id:
            del self.fields["username"]


class ValidateForm(forms.Form):
    """The cohort: another study, a later data cut, or an imported CSV."""

    service_fields = {"cohort": "source"}  # the service's name of the choice

    source = forms.ChoiceField(label=_("Cohort"), choices=CohortSource.choices, widget=forms.RadioSelect)
    study = forms.ChoiceField(label=_("Other study"), required=False)
    cut = forms.DateTimeField(
        label=_("Later data cut"),
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text=_("After the model's data cut; empty for now."),
    )
    file = forms.FileField(
        label=_("CSV file of the cohort"),
        required=False,
        help_text=_(
            "In the analysis export's format (UTF-8, at most 5 MB). The whole file is checked first."
        ),
    )
    language = forms.ChoiceField(label=_("Language of the report"), choices=settings.LANGUAGES)

    def __init__(self, *args, studies=(), **kwargs):
        kwargs.setdefault("prefix", "validate")
        super().__init__(*args, **kwargs)
        self.fields["study"].choices = [("", "—")] + [
            (s.code, f"{s.code} · {localized(s.title)}") for s in studies
        ]


class ReportForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    validation = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CalculatorForm(forms.Form):
    """One input per predictor of the model, labelled with its unit and range; the calculator judges them."""

    def __init__(self, *args, predictors=(), **kwargs):
        super().__init__(*args, **kwargs)
        for predictor in predictors:
            label = localized(predictor.get("label")) or predictor["code"]
            if predictor.get("type") == "binary":
                self.fields[predictor["code"]] = forms.ChoiceField(
                    label=label,
                    required=False,
                    choices=[("", "—"), ("1", _("yes")), ("0", _("no"))],
                    help_text=predictor.get("unit") or "",
                )
                continue
            low, high = (predictor.get("range") or [None, None])[:2]
            attrs = {"inputmode": "decimal", "autocomplete": "off"}
            self.fields[predictor["code"]] = forms.CharField(
                label=f"{label} ({predictor['unit']})" if predictor.get("unit") else label,
                required=False,
                max_length=32,
                widget=forms.TextInput(attrs=attrs),
                help_text=_("From %(low)s to %(high)s") % {"low": _g(low), "high": _g(high)},
            )


def _g(value) -> str:
    return f"{value:g}" if isinstance(value, int | float) else "—"
