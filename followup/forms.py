"""Forms of the follow-up pages. They parse input; the visit services own every rule."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from trial.forms import DateInput
from trial.levels import LEVELS
from trial.models import ContactChannel

from .messaging.models import MessageState
from .models import Confidence, VisitStatus
from .question import Part, Question, default_question

REASON = {"rows": 2, "maxlength": 500}
ALL = "all"  # the visits page's filter for every status


class VisitCompleteForm(forms.Form):
    visit_date = forms.DateField(label=_("Date of the visit"), widget=DateInput())


class VisitReasonForm(forms.Form):
    """Declaring a visit missed, or reopening one, needs the reason."""

    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs=REASON))


class UnscheduledVisitForm(forms.Form):
    visit_date = forms.DateField(label=_("Date of the visit"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason for the visit"),
        max_length=500,
        widget=forms.Textarea(attrs=REASON),
        help_text=_("For example: new back pain."),
    )


class VisitFilterForm(forms.Form):
    site = forms.ChoiceField(label=_("Site"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", _("All sites")), *((s.code, s.code) for s in sites)]
        self.fields["status"].choices = [
            ("", _("Due this week or overdue")),
            ("due", _("Due this week")),
            *((value, label) for value, label in VisitStatus.choices),
            (ALL, _("All visits")),
        ]


class MessageFilterForm(forms.Form):
    """The outbox page's filters; a value outside the choices is a field error (400), never ignored."""

    site = forms.ChoiceField(label=_("Site"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    participant = forms.CharField(label=_("Study ID"), required=False, max_length=32)
    sent_within = forms.IntegerField(
        label=_("Sent in the last (days)"), required=False, min_value=1, max_value=3660
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", _("All sites")), *((s.code, s.code) for s in sites)]
        self.fields["state"].choices = [("", _("All states")), *MessageState.choices]
        self.fields["channel"].choices = [("", _("All channels")), *ContactChannel.choices]

    def clean_participant(self) -> str:
        return self.cleaned_data["participant"].strip()


class DigestSettingsForm(forms.Form):
    """A staff member's own digests: each kind on or off, and their language."""

    daily = forms.BooleanField(label=_("Daily digest"), required=False)
    weekly = forms.BooleanField(label=_("Weekly digest"), required=False)
    # Read when the form is built, not when the module is imported.
    language = forms.ChoiceField(label=_("Language of the digests"), choices=lambda: settings.LANGUAGES)


YES_NO = [("true", _("Yes")), ("false", _("No"))]


def _yes_no(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value)


class VerdictForm(forms.Form):
    """A reader's verdict on a case, e-signed with the user ID (the first signing of the session:
    `ask_user_id`) and the password again (meaning "adjudication"). It parses; services/verdicts.py judges
    completeness and the signature."""

    fracture = forms.TypedChoiceField(
        label=_("New non-operative vertebral fracture"),
        choices=YES_NO,
        coerce=_yes_no,
        widget=forms.RadioSelect,
    )
    levels = forms.MultipleChoiceField(
        label=_("Fractured level(s)"),
        choices=[(level, level) for level in LEVELS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    acute_signal = forms.TypedChoiceField(
        label=_("Acute signal on MRI (marrow oedema)"),
        choices=YES_NO,
        coerce=_yes_no,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    genant_grade = forms.TypedChoiceField(
        label=_("Genant grade"),
        choices=[
            ("1", _("1 mild (20-25 %)")),
            ("2", _("2 moderate (25-40 %)")),
            ("3", _("3 severe (> 40 %)")),
        ],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    event_date = forms.DateField(label=_("Event date"), required=False, widget=DateInput())
    confidence = forms.ChoiceField(
        label=_("Confidence"), choices=Confidence.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
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

    def __init__(self, *args, question: Question | None = None, ask_user_id: bool = True, **kwargs):
        """`question`: the case's (followup/question.py): the answer is asked in its words, and the parts it
        does not ask are left out of the form; the re-fracture question when none."""
        super().__init__(*args, **kwargs)
        question = question or default_question()
        self.parts = [part for part in Part.ALL if question.asked(part)]
        answer = self.fields["fracture"]
        answer.label = question.text()
        answer.choices = [("true", question.answer_text(True)), ("false", question.answer_text(False))]
        for part in Part.ALL:
            if part not in self.parts:
                del self.fields[part]
        if not ask_user_id:
            del self.fields["username"]

    def clean(self):
        """The negative answer: the levels, signal, grade and date do not apply (the page may still hold a
        prefilled date), so they are dropped rather than refused."""
        cleaned = super().clean()
        if cleaned.get("fracture") is False:
            cleaned.update({part: [] if part == Part.LEVELS else None for part in self.parts})
        return cleaned
