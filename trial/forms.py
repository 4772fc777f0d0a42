"""Forms of the coordinator pages. They parse and shape input; the services own every rule.

Where a form repeats a rule (required fields, the age bounds on the input), it is only to help the user
before the round trip: the service checks again and its field errors are shown on the same fields.
"""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .i18n import localized
from .levels import LEVELS
from .models import (
    Criterion,
    CriterionKind,
    NotEnrolledReason,
    ParticipantStatus,
    Screening,
    Sex,
    Site,
)
from .services.enrollment import STATUS_TRANSITIONS
from .services.screening import AGE_RANGE

YES, NO, UNKNOWN = "yes", "no", "unknown"
ANSWER_CHOICES = [(YES, _("Yes")), (NO, _("No")), (UNKNOWN, _("Unknown"))]
ANSWER_VALUES: dict[str, bool | None] = {YES: True, NO: False, UNKNOWN: None, "": None}
ANSWER_NAMES = {True: YES, False: NO, None: UNKNOWN}
# The domain service and the stored answers say "the statement holds"; the form says yes / no / unknown.


class DateInput(forms.DateInput):
    """A native date picker; the ISO value format is what <input type=date> reads and sends."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def answer_field_name(code: str) -> str:
    return f"answer_{code}"


def site_label(site: Site) -> str:
    return f"{site.code} · {site.localized_name}"


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Site) -> str:
        return site_label(obj)


class StudySiteChoiceField(forms.ModelChoiceField):
    """A site among several studies: the study code tells apart sites with the same code."""

    def label_from_instance(self, obj: Site) -> str:
        return f"{obj.study.code} · {site_label(obj)}"


class ScreeningDataForm(forms.Form):
    """The screening data a coordinator enters, with one yes / no / unknown question per asked criterion."""

    screening_date = forms.DateField(label=_("Screening date"), widget=DateInput())
    age = forms.IntegerField(
        label=_("Age (years)"),
        widget=forms.NumberInput(attrs={"min": AGE_RANGE[0], "max": AGE_RANGE[1], "inputmode": "numeric"}),
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    fracture_levels = forms.MultipleChoiceField(
        label=_("Fractured levels"),
        choices=[(level, level) for level in LEVELS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=2000,
        help_text=_("Research notes only: never a name, phone or record number (monitors read them)."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, criteria: Iterable[Criterion], **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            if not criterion.computed:
                self.fields[answer_field_name(criterion.code)] = forms.ChoiceField(
                    label=criterion.code,
                    choices=ANSWER_CHOICES,
                    required=False,
                    initial=UNKNOWN,
                    widget=forms.RadioSelect,
                )

    def criterion_groups(self) -> list[dict[str, Any]]:
        """Inclusion then exclusion criteria, each with its bound radio group (None when computed)."""
        groups = []
        for kind, label in CriterionKind.choices:
            rows = [
                {"criterion": c, "field": None if c.computed else self[answer_field_name(c.code)]}
                for c in self.criteria
                if c.kind == kind
            ]
            if rows:
                groups.append({"kind": kind, "label": label, "rows": rows})
        return groups

    def answers(self) -> dict[str, bool | None]:
        """{criterion code: True | False | None} for the asked criteria; an invalid answer is unknown."""
        data = getattr(self, "cleaned_data", {})
        return {
            c.code: ANSWER_VALUES.get(data.get(answer_field_name(c.code)) or "")
            for c in self.criteria
            if not c.computed
        }

    def service_data(self) -> dict[str, Any]:
        """The cleaned data in the shape the screening services take."""
        data = self.cleaned_data
        return {
            "screening_date": data["screening_date"],
            "age": data["age"],
            "sex": data["sex"],
            "fracture_levels": list(data["fracture_levels"]),
            "answers": self.answers(),
            "notes": data["notes"],
        }


class ScreeningForm(ScreeningDataForm):
    """A new screening: the data plus the site, chosen among the sites the user may screen at."""

    site = SiteChoiceField(
        label=_("Site"), queryset=Site.objects.none(), to_field_name="code", empty_label=_("Choose the site")
    )
    field_order = ["site", "screening_date", "age", "sex", "fracture_levels"]

    def __init__(self, *args, sites: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites


class ScreeningCorrectionForm(ScreeningDataForm):
    """A correction of a screening before enrollment: every field may change, and a reason is required.

    It also records why an eligible patient was not enrolled (the STROBE flow's eligible -> included step).
    """

    not_enrolled_reason = forms.ChoiceField(
        label=_("Reason not enrolled"),
        required=False,
        choices=[("", _("Not given")), *NotEnrolledReason.choices],
        help_text=_("Only for an eligible patient who will not be enrolled."),
    )
    reason = forms.CharField(
        label=_("Reason for the correction"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def service_data(self) -> dict[str, Any]:
        return {**super().service_data(), "not_enrolled_reason": self.cleaned_data["not_enrolled_reason"]}

    @staticmethod
    def initial_for(screening: Screening) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "screening_date": screening.screening_date,
            "age": screening.age,
            "sex": screening.sex,
            "fracture_levels": list(screening.fracture_levels),
            "notes": screening.notes,
            "not_enrolled_reason": screening.not_enrolled_reason,
        }
        for code, value in screening.answers.items():
            initial[answer_field_name(code)] = ANSWER_NAMES.get(value, UNKNOWN)
        return initial


class EnrollmentForm(forms.Form):
    """Consent, enrollment and the identifying data kept apart from the research data.

    Shaped by the screening's protocol version: a retrospective study (consent waived) asks no consent date
    and its enrollment date is the date of registration; a study with groups asks the case's group.
    """

    consent_date = forms.DateField(label=_("Informed consent date"), widget=DateInput())
    enrollment_date = forms.DateField(label=_("Enrollment date"), widget=DateInput())
    full_name = forms.CharField(
        label=_("Full name"), max_length=128, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    hospital_record_number = forms.CharField(
        label=_("Hospital record number"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    national_id = forms.CharField(
        label=_("National ID"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    beyond_target = forms.BooleanField(
        label=_("Enroll beyond the study's target (decided by the sponsor or an amendment)"), required=False
    )

    IDENTITY_FIELDS = ("full_name", "phone", "hospital_record_number", "national_id")
    # The enrollment service names a missing identity "identity": the form shows it at the name.
    service_fields = {"identity": "full_name"}

    def __init__(self, *args, version, **kwargs):
        super().__init__(*args, **kwargs)
        self.retrospective = version.retrospective
        if self.retrospective:
            del self.fields["consent_date"]
            self.fields["enrollment_date"].label = _("Registration date")
        if version.groups:
            self.fields["group"] = forms.ChoiceField(
                label=_("Group"),
                choices=[("", "---------")] + [(g["code"], localized(g["label"])) for g in version.groups],
            )

    def identity(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.IDENTITY_FIELDS}

    def service_data(self) -> dict[str, Any]:
        """The enrollment service's arguments besides the actor and the screening."""
        data = {
            "enrollment_date": self.cleaned_data["enrollment_date"],
            "identity": self.identity(),
            "beyond_target": self.cleaned_data["beyond_target"],
            "group": self.cleaned_data.get("group", ""),
        }
        if not self.retrospective:
            data["consent_date"] = self.cleaned_data["consent_date"]
        return data


class ParticipantStatusForm(forms.Form):
    """The statuses a participant may move to from the current one (the service's transition table)."""

    status = forms.ChoiceField(label=_("New status"), widget=forms.RadioSelect)
    date = forms.DateField(label=_("Date"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (status, ParticipantStatus(status).label) for status in STATUS_TRANSITIONS[current]
        ]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ExamFilesField(forms.FileField):
    """Several files in one input: the files of an exam (a series is one file per slice)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(allow_empty_file=True, **kwargs)  # an empty file is "not DICOM", said by the service

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(ExamFilesField, self).clean(one, initial) for one in files]


class ExamUploadForm(forms.Form):
    """A participant's follow-up exams from DICOM files (trial.services.participant_exams_register)."""

    files = ExamFilesField(
        label=_("DICOM files"),
        help_text=_(
            "The files of one or more exams (a folder's files may be chosen together). Only the headers are "
            "read: no patient name, ID or birth date is kept, and the UIDs only as keyed hashes."
        ),
    )
