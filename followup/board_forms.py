"""Forms of the case board and the case page (views/board.py). They parse input; the adjudication services
(services/cases.py, assignment.py, verdicts.py) own every rule."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from trial.forms import DateInput
from trial.levels import LEVELS

from .models import Modality, ReaderSlot
from .services.cases import FINDINGS_MAX

REASON_MAX = 2000  # the API's
REASON = {"rows": 2, "maxlength": REASON_MAX}


class BoardFilterForm(forms.Form):
    """The board's filters; a value outside the choices is a field error (400), never ignored. `tabs`: the
    statuses this user may filter by (site staff cannot ask for the disputed ones)."""

    status = forms.ChoiceField(label=_("Status"), required=False, widget=forms.HiddenInput)
    site = forms.ChoiceField(label=_("Site"), required=False)
    study_id = forms.CharField(label=_("Study ID"), required=False, max_length=32)

    def __init__(self, *args, sites, tabs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", _("All sites")), *((s.code, s.code) for s in sites)]
        self.fields["status"].choices = [("", _("All")), *((tab, tab) for tab in tabs)]

    def clean_study_id(self) -> str:
        return self.cleaned_data["study_id"].strip()


class ReasonForm(forms.Form):
    """Reopening a case or withdrawing findings needs the reason (the audit trail keeps it)."""

    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX, widget=forms.Textarea(attrs=REASON))


class ReassignForm(forms.Form):
    """A slot and the reader to give it to. The reader is any user id: the service judges eligibility, so
    that a reader who became ineligible since the page was drawn is refused with the rule's own message."""

    slot = forms.ChoiceField(label=_("Slot"))
    # Any user id reaches the service, which says why one may not read the case.
    reader = forms.IntegerField(label=_("Adjudicator"), min_value=1, widget=forms.Select)
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX, widget=forms.Textarea(attrs=REASON))

    def __init__(self, *args, slots, readers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [(slot, capfirst(ReaderSlot(slot).label)) for slot in slots]
        self.fields["reader"].widget.choices = [
            ("", "—"),
            *((r["id"], _reader_label(r)) for r in readers),
        ]


def _reader_label(reader: dict) -> str:
    return ngettext("%(name)s (%(count)d case now)", "%(name)s (%(count)d cases now)", reader["load"]) % {
        "name": reader["name"],
        "count": reader["load"],
    }


class ManualCaseForm(forms.Form):
    """A case a data manager opens by hand, with the findings that support it."""

    study_id = forms.CharField(label=_("Study ID"), max_length=32)
    level = forms.ChoiceField(label=_("Level"), choices=[("", "—"), *((level, level) for level in LEVELS)])
    exam_date = forms.DateField(label=_("Exam date"), widget=DateInput())
    modality = forms.ChoiceField(label=_("Modality"), choices=[("", "—"), *Modality.choices])
    findings = forms.CharField(
        label=_("Findings"),
        max_length=FINDINGS_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": FINDINGS_MAX}),
        help_text=_("What the imaging shows at this level, as the report says it. Readers see this text."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs=REASON),
        help_text=_("For example: unscheduled CT after a fall."),
    )

    def clean_study_id(self) -> str:
        return self.cleaned_data["study_id"].strip()
