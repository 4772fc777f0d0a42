"""Input and output shapes of the trial API. No business rule here: services own the rules."""

from collections.abc import Callable, Iterable

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.settings import api_settings

from ..audit import reason_required
from ..i18n import LANGUAGES
from ..models import (
    ContactChannel,
    NotEnrolledReason,
    OptOutSource,
    Participant,
    ParticipantIdentity,
    ParticipantStatus,
    Screening,
    Study,
)
from .codes import site_codes, study_codes


class CriterionOut(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.CharField()
    text = serializers.CharField(source="localized_text")
    text_i18n = serializers.JSONField(source="text")
    computed = serializers.BooleanField()


class SiteOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="localized_name")
    time_zone = serializers.CharField()
    cohort = serializers.CharField(help_text="development | external_validation, or empty when not said.")


class GroupOut(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.JSONField(help_text="{'en': ..., 'zh-hans': ...}")
    target = serializers.IntegerField()


class StudyOut(serializers.ModelSerializer):
    title = serializers.CharField(source="localized_title")
    protocol_version = serializers.CharField(source="current_version.label")
    target_enrollment = serializers.IntegerField(source="current_version.target_enrollment")
    follow_up_days = serializers.IntegerField(
        source="current_version.follow_up_days",
        allow_null=True,
        help_text="None: no follow-up (retrospective).",
    )
    registration = serializers.ChoiceField(
        choices=["prospective", "retrospective"],
        source="current_version.registration",
        help_text="retrospective: consent waived, cases registered with no consent date.",
    )
    groups = GroupOut(many=True, source="current_version.groups")
    sites = SiteOut(many=True)
    criteria = CriterionOut(many=True, source="current_version.criteria.all")

    class Meta:
        model = Study
        fields = [
            "code",
            "title",
            "sponsor",
            "protocol_version",
            "target_enrollment",
            "follow_up_days",
            "registration",
            "groups",
            "sites",
            "criteria",
        ]


class StrictInput(serializers.Serializer):
    """An input shape that refuses keys it does not declare (a typo, "answer", is a 400, not silently lost),
    and values of the wrong JSON type (json_type_error): what the schema says of it, the server does.

    A correction sets `min_fields` = 1: an empty one is a 400 (the schema's minProperties)."""

    min_fields = 0

    def to_internal_value(self, data):
        if isinstance(data, dict):
            if len(data) < self.min_fields:
                message = _("Nothing to change: name the fields to correct.")
                raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]})
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
            wrong = {}
            for name, value in data.items():
                message = json_type_error(self.fields[name], value)
                if message:
                    wrong[name] = [message]
            if wrong:
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


class ReasonField(serializers.CharField):
    """The reason a change is made on a person's say-so: required, not blank (the schema says so: minLength
    1, a character that is not a space). Missing or blank, it is the 400 `reason_required` that every change
    without a reason gets (trial.audit.reason_required), not DRF's own `required`/`blank`."""

    def __init__(self, **kwargs):
        super().__init__(required=True, allow_blank=False, **kwargs)

    def run_validation(self, data=serializers.empty):
        if data is serializers.empty or data is None or (isinstance(data, str) and not data.strip()):
            reason_required(None)  # raises ReasonRequired
        return super().run_validation(data)


def json_type_error(field, value) -> str | None:
    """The message if `value` is not of the JSON type `field`'s schema gives, else None.

    DRF coerces on input: "yes", 1 and "on" are booleans, "71" and 71.0 integers, 7 a text. A client generated
    from the schema never sends those, and a value of the wrong type is most likely a mistake: refused.
    """
    if value is None:
        return None  # the field's own allow_null decides
    for kind, ok, key in JSON_TYPES:
        if isinstance(field, kind):
            if kind is serializers.ChoiceField and not _text_choices(field):
                return None
            return None if ok(value) else str(field.error_messages[key]).format(input=value)
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        return next(filter(None, (json_type_error(field.child, item) for item in value)), None)
    return None


# (field class, the JSON values it takes, its message): the first class a field is an instance of decides.
JSON_TYPES = (
    (serializers.BooleanField, lambda v: isinstance(v, bool), "invalid"),
    (serializers.IntegerField, lambda v: isinstance(v, int) and not isinstance(v, bool), "invalid"),
    (serializers.FloatField, lambda v: isinstance(v, int | float) and not isinstance(v, bool), "invalid"),
    (serializers.ChoiceField, lambda v: isinstance(v, str), "invalid_choice"),
    (serializers.CharField, lambda v: isinstance(v, str), "invalid"),
)


def _text_choices(field) -> bool:
    return all(isinstance(choice, str) for choice in field.choices)


class CodeField(serializers.CharField):
    """A code of the protocols (a study, a site, a form): the schema's enum lists `codes()`
    (trial/apis/codes.py); the service judges the value against the protocol at hand (400 naming the field,
    e.g. a site of another study)."""

    def __init__(self, *, codes: Callable[[], Iterable[str]], **kwargs):
        self.codes = codes
        super().__init__(**kwargs)


class IdentityIn(StrictInput):
    """Identifying data, with the model's own maximum lengths."""

    full_name = serializers.CharField(max_length=ParticipantIdentity._meta.get_field("full_name").max_length)
    phone = serializers.CharField(
        max_length=ParticipantIdentity._meta.get_field("phone").max_length, required=False, allow_blank=True
    )
    hospital_record_number = serializers.CharField(
        max_length=ParticipantIdentity._meta.get_field("hospital_record_number").max_length,
        required=False,
        allow_blank=True,
    )
    national_id = serializers.CharField(
        max_length=ParticipantIdentity._meta.get_field("national_id").max_length,
        required=False,
        allow_blank=True,
    )
    email = serializers.EmailField(
        max_length=ParticipantIdentity._meta.get_field("email").max_length,
        required=False,
        allow_blank=True,
        help_text="For e-mail reminders.",
    )
    contact_language = serializers.ChoiceField(
        choices=list(LANGUAGES),
        required=False,
        help_text="The language of the participant's messages (default zh-hans).",
    )


class IdentityPatch(IdentityIn):
    """A correction names only the fields it changes, at least one."""

    min_fields = 1

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].required = False


class AnswersField(serializers.DictField):
    """{criterion_code: true | false | null}: whether the criterion's statement holds for the patient.

    Inclusion: true passes, false fails. Exclusion: true excludes the patient, false passes. null: unknown.
    Only criteria that are not computed are answered; the codes are checked against the protocol version.
    """

    child = serializers.BooleanField(allow_null=True)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            bad = [k for k, v in data.items() if v is not None and not isinstance(v, bool)]
            if bad:
                raise serializers.ValidationError(
                    [
                        _("The answer to %(code)s must be true, false or null.") % {"code": code}
                        for code in bad
                    ]
                )
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer that refuses 71.5, "71" and true instead of quietly coercing them."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


# Rules of the protocol and the clock that a schema cannot say: the server answers 400 naming the field.
DATE_HELP = "Not before the study opened (its protocol), not in the future at the site."
SITE_HELP = "Site code, e.g. 07: an active site of the study (400 naming `site` otherwise)."


class ScreeningIn(StrictInput):
    study = CodeField(codes=study_codes, help_text="Registration number, e.g. NCT06379243.")
    site = CodeField(codes=site_codes, help_text=SITE_HELP)
    screening_date = serializers.DateField(help_text=DATE_HELP)
    age = StrictIntegerField(min_value=0, max_value=120)
    sex = serializers.ChoiceField(choices=["female", "male"])
    fracture_levels = serializers.ListField(
        child=serializers.CharField(max_length=3), allow_empty=True, required=False, default=list
    )
    answers = AnswersField(
        required=False,
        default=dict,
        help_text="{code: true|false|null}: whether the criterion's statement holds. Inclusion: true passes. "
        "Exclusion: true excludes. Computed criteria are decided from age, sex and fracture_levels.",
    )
    notes = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Research notes: never a name, phone or record number (monitors read them).",
    )


class GroupAccrualOut(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    target = serializers.IntegerField()
    registered = serializers.IntegerField()
    percent = serializers.FloatField(help_text="registered / target, in per cent (may pass 100).")


class CentreAccrualOut(serializers.Serializer):
    site = serializers.CharField()
    name = serializers.CharField()
    cohort = serializers.CharField(help_text="development | external_validation, or empty when not said.")
    registered = serializers.IntegerField()
    groups = serializers.DictField(child=serializers.IntegerField(), help_text="Cases per group code.")


class AccrualOut(serializers.Serializer):
    target = serializers.IntegerField()
    registered = serializers.IntegerField()
    groups = GroupAccrualOut(many=True)
    centres = CentreAccrualOut(many=True)


class FlowOut(serializers.Serializer):
    screened = serializers.IntegerField()
    ineligible = serializers.IntegerField()
    ineligible_reasons = serializers.DictField(child=serializers.IntegerField())
    incomplete = serializers.IntegerField()
    eligible = serializers.IntegerField()
    not_enrolled = serializers.IntegerField()
    not_enrolled_reasons = serializers.DictField(child=serializers.IntegerField())
    enrolled = serializers.IntegerField()
    participants = serializers.DictField(child=serializers.IntegerField())
    accrual = AccrualOut(
        allow_null=True,
        help_text="Cases per group and per centre against the group targets; null without groups.",
    )


class ScreeningPatch(StrictInput):
    """A correction names only the fields it changes, at least one."""

    min_fields = 1
    screening_date = serializers.DateField(required=False)
    age = StrictIntegerField(min_value=0, max_value=120, required=False)
    sex = serializers.ChoiceField(choices=["female", "male"], required=False)
    fracture_levels = serializers.ListField(
        child=serializers.CharField(max_length=3), allow_empty=True, required=False
    )
    answers = AnswersField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    not_enrolled_reason = serializers.ChoiceField(
        choices=NotEnrolledReason.choices, required=False, allow_blank=True
    )


class EvaluateIn(StrictInput):
    site = CodeField(codes=site_codes, help_text=SITE_HELP)
    screening_date = serializers.DateField(required=False)
    age = StrictIntegerField(min_value=0, max_value=120, required=False, allow_null=True)
    sex = serializers.ChoiceField(choices=["female", "male"], required=False, allow_null=True)
    fracture_levels = serializers.ListField(child=serializers.CharField(max_length=3), required=False)
    answers = AnswersField(required=False)


class VerdictOut(serializers.Serializer):
    outcome = serializers.CharField()
    failed_criteria = serializers.ListField(source="failed")
    missing_criteria = serializers.ListField(source="missing")
    states = serializers.DictField()


class ScreeningOut(serializers.ModelSerializer):
    study = serializers.CharField(source="study.code")
    site = serializers.CharField(source="site.code")
    protocol_version = serializers.CharField(source="protocol_version.label")
    screened_by = serializers.CharField(source="screened_by.get_username")
    study_id = serializers.SerializerMethodField()

    class Meta:
        model = Screening
        fields = [
            "id",
            "study",
            "site",
            "protocol_version",
            "screening_date",
            "age",
            "sex",
            "fracture_levels",
            "answers",
            "outcome",
            "failed_criteria",
            "missing_criteria",
            "not_enrolled_reason",
            "notes",
            "screened_by",
            "study_id",
            "created_at",
            "updated_at",
        ]

    def get_study_id(self, obj) -> str | None:
        participant = getattr(obj, "participant", None)
        return participant.study_id if participant else None


class EnrollIn(StrictInput):
    consent_date = serializers.DateField(
        required=False,
        help_text=f"{DATE_HELP} Required by a prospective study; a retrospective one waives consent and "
        "takes none (400 `consent_date` either way).",
    )
    enrollment_date = serializers.DateField(
        help_text=f"{DATE_HELP} Not before the consent; in a retrospective study the date of registration."
    )
    group = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,  # blank is "no group", as leaving it out: the service judges it by the protocol
        max_length=32,
        help_text="The case's group, one of the study's `groups` codes: required when it has groups, else "
        "refused (400 `group`).",
    )
    identity = IdentityIn(help_text="Identifying data, kept apart; readable only by the site's own staff.")
    beyond_target = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Confirms an enrollment once the study has reached its target (else 409 beyond_target).",
    )


class ParticipantOut(serializers.ModelSerializer):
    study = serializers.CharField(source="site.study.code")
    site = serializers.CharField(source="site.code")

    class Meta:
        model = Participant
        fields = [
            "study_id",
            "study",
            "site",
            "screening",
            "consent_date",
            "consent_waived",
            "enrollment_date",
            "group",
            "status",
            "status_date",
            "status_reason",
        ]


class StatusChangeIn(StrictInput):
    date = serializers.DateField()
    reason = serializers.CharField(max_length=500)


class IdentityOut(serializers.Serializer):
    full_name = serializers.CharField()
    phone = serializers.CharField()
    hospital_record_number = serializers.CharField()
    national_id = serializers.CharField()
    email = serializers.CharField()
    contact_language = serializers.CharField()


class OptOutIn(StrictInput):
    channel = serializers.ChoiceField(choices=ContactChannel.choices)
    since = serializers.DateField(
        required=False, help_text="The day the participant asked (default: today at the site; not later)."
    )


class OptOutOut(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ContactChannel.choices)
    since = serializers.DateField()
    source = serializers.ChoiceField(choices=OptOutSource.choices)
    ended_on = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()


class HistoryChangeOut(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField()
    new = serializers.JSONField()


class HistoryEventOut(serializers.Serializer):
    time = serializers.DateTimeField()
    event = serializers.CharField()
    user = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    changes = HistoryChangeOut(many=True)


class TokenIn(StrictInput):
    username = serializers.CharField(max_length=150)  # the User model's: a longer one is a field message
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="The code of the authenticator app (or a recovery code), for users who must use two-factor "
        "sign-in.",
    )


class TokenOut(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    expiry = serializers.DateTimeField(help_text="When the token stops working.")


class TokenRefused(serializers.Serializer):
    """A 400: the fields at fault, or wrong credentials under non_field_errors."""

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    username = serializers.ListField(child=serializers.CharField(), required=False)
    password = serializers.ListField(child=serializers.CharField(), required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class SignInError(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in the reader's language.")
    code = serializers.CharField(required=False)


PARTICIPANT_STATUSES = ParticipantStatus.values
