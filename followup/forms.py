"""Forms of the follow-up pages. They parse input; the visit services own every rule."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from trial.forms import DateInput
from trial.models import ContactChannel

from .messaging.models import MessageState
from .models import VisitStatus

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
