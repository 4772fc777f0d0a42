"""Input and output shapes of the CRF API."""

from rest_framework import serializers

from trial.apis.serializers import CodeField, HistoryEventOut, StrictInput

from ..models import DataQuery, QueryMessage, SignatureMeaning
from .codes import all_form_codes


class FormDataIn(StrictInput):
    data = serializers.DictField(help_text="Field values by code; repeating groups as lists of rows.")


USERNAME_HELP = (
    "Your user ID (username) again: required on the first signing of a session (21 CFR 11.200(a)(1)), "
    "optional afterwards (checked when given). The session is the API token (until it expires or is "
    "revoked), or the browser session for session-cookie clients."
)
# The e-signature's refusals, described once for every endpoint that signs (forms, adjudication verdicts).
SIGNING_ERRORS = (
    "The e-signature (21 CFR 11.200(a)(1)): the first signing of a session takes the user ID (`username`) "
    "and the password, later signings in the same session the password alone. A wrong password "
    "(`bad_password`), a missing user ID on a first signing (`user_id_required`) or another user's ID "
    "(`bad_user_id`) is a 403 naming the field, counted towards the signing lock-out (403 "
    "`signing_locked_out`)."
)


class SignIn(StrictInput):
    username = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default="", help_text=USERNAME_HELP
    )
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    meaning = serializers.ChoiceField(choices=SignatureMeaning.choices)


class SigningRefused(serializers.Serializer):
    """A 403 of the e-signature: the message, its code, and the message beside each field at fault."""

    detail = serializers.CharField()
    code = serializers.ChoiceField(
        choices=["bad_password", "bad_user_id", "user_id_required", "signing_locked_out", "forbidden"]
    )
    username = serializers.ListField(child=serializers.CharField(), required=False)
    password = serializers.ListField(child=serializers.CharField(), required=False)


class SignatureOut(serializers.Serializer):
    printed_name = serializers.CharField()
    meaning = serializers.CharField()
    meaning_text = serializers.CharField(source="get_meaning_display")
    signed_at = serializers.DateTimeField()
    record_version = serializers.IntegerField()
    valid = serializers.SerializerMethodField()

    def get_valid(self, obj) -> bool:
        return obj.invalidated_at is None


class WarningOut(serializers.Serializer):
    check = serializers.CharField()
    field = serializers.CharField(source="path")
    message = serializers.CharField(help_text="In the request's language.")
    message_code = serializers.CharField(help_text="The message as data: check or soft_range (see queries).")
    message_params = serializers.JSONField()


class FormOut(serializers.Serializer):
    form = serializers.CharField(source="form_code")
    visit = serializers.CharField(
        allow_null=True, help_text="The visit's code for a form collected at a visit."
    )
    form_version = serializers.CharField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    data = serializers.DictField(help_text="Field values by code; repeating groups as lists of rows.")
    updated_at = serializers.DateTimeField(allow_null=True)
    signatures = SignatureOut(many=True)
    warnings = WarningOut(many=True)
    incomplete = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class FormGridOut(serializers.Serializer):
    form = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    live_queries = serializers.IntegerField()


class FormHistoryOut(HistoryEventOut):
    pass


class QueryMessageOut(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    text = serializers.CharField(
        source="display_text",
        help_text="A text the edit checks wrote (`code` set) in the request's language (Accept-Language); "
        "a person's words as typed.",
    )
    code = serializers.CharField(
        help_text="For a text the edit checks wrote: check (params: form, check; the check's message in the "
        "form definition), soft_range (params: value, unit, low, high; null for an open bound) or "
        "resolved_by_data (no params). Empty for a person's words.",
    )
    params = serializers.JSONField(help_text="The parameters of `code`; {} for a person's words.")

    class Meta:
        model = QueryMessage
        fields = ["action", "author", "text", "code", "params", "created_at"]

    def get_author(self, obj) -> str | None:
        return obj.author.get_username() if obj.author else None


class QueryOut(serializers.ModelSerializer):
    study_id = serializers.CharField(source="record.participant.study_id")
    site = serializers.CharField(source="record.participant.site.code")
    form = serializers.CharField(source="record.form_code")
    visit = serializers.SerializerMethodField()
    field = serializers.CharField(source="field_path")
    raised_by = serializers.SerializerMethodField()
    age_days = serializers.SerializerMethodField()
    messages = QueryMessageOut(many=True)

    def get_visit(self, obj) -> str | None:
        return obj.record.visit_code or None

    class Meta:
        model = DataQuery
        fields = [
            "id",
            "study_id",
            "site",
            "form",
            "visit",
            "field",
            "check_code",
            "auto",
            "status",
            "raised_by",
            "created_at",
            "updated_at",
            "closed_at",
            "age_days",
            "messages",
        ]

    def get_raised_by(self, obj) -> str | None:
        return obj.raised_by.get_username() if obj.raised_by else None

    def get_age_days(self, obj) -> int:
        return self.context["ages"](obj)


FORM_HELP = "A form of the participant's protocol with data (400 naming `form` otherwise)."


class QueryRaiseIn(StrictInput):
    study_id = serializers.CharField(max_length=32)
    form = CodeField(codes=all_form_codes, max_length=32, help_text=FORM_HELP)
    visit = serializers.CharField(
        max_length=16, required=False, allow_blank=True, help_text="The visit's code, for a visit form."
    )
    field = serializers.CharField(
        max_length=200,
        help_text="A field of the form, e.g. levels[L1].cement_volume (400 naming `field_path` otherwise).",
    )
    text = serializers.CharField(max_length=2000)


class QueryStepIn(StrictInput):
    text = serializers.CharField(max_length=2000)
