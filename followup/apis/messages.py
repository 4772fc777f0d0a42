"""Outbox API: the messages at the user's sites, staff's answer to one whose outcome is unknown, and each
staff member's own digest settings.

Never an address, a text or a link token: the outbox holds none, and the answer names the participant by
study ID only. Blinded adjudicators list nothing and find no message (404).
"""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from trial.apis.filtering import SiteCodeField, list_query
from trial.apis.pagination import Pagination
from trial.apis.serializers import StrictInput
from trial.i18n import LANGUAGES
from trial.models import ContactChannel

from ..messaging import services
from ..messaging.models import MessageKind, MessageState
from ..messaging.notes import NOTE_CODES
from ..messaging.selectors import digest_setting, message_list


class MessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    study_id = serializers.CharField(
        source="participant.study_id", allow_null=True, default=None, help_text="A reminder's participant."
    )
    site = serializers.CharField(
        source="site.code", allow_null=True, default=None, help_text="A reminder's site."
    )
    recipient = serializers.CharField(
        source="recipient.username", allow_null=True, default=None, help_text="A digest's reader (staff)."
    )
    visit = serializers.CharField(source="visit.code", allow_null=True, default=None)
    kind = serializers.ChoiceField(choices=MessageKind.choices)
    instrument = serializers.CharField()
    channel = serializers.ChoiceField(choices=ContactChannel.choices)
    step = serializers.CharField()
    language = serializers.CharField()
    state = serializers.ChoiceField(choices=MessageState.choices)
    state_text = serializers.CharField(
        source="get_state_display", help_text="The state in the request's language."
    )
    due_at = serializers.DateTimeField()
    attempts = serializers.IntegerField()
    sent_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(
        help_text="Why it is in its state, in the request's language (never an address or a text)."
    )
    note_code = serializers.ChoiceField(
        choices=[("", "none"), *((code, code) for code in NOTE_CODES)],
        help_text="Why it is in its state, as data (followup.messaging.notes); empty for none.",
    )
    note_params = serializers.DictField(
        child=serializers.CharField(), help_text="The note's parameters: a state, a channel, a user name."
    )
    created_at = serializers.DateTimeField()


class MessageListQuery(serializers.Serializer):
    participant = serializers.CharField(required=False, max_length=32, help_text="A study ID, e.g. 07-0001.")
    state = serializers.ChoiceField(choices=MessageState.choices, required=False)
    kind = serializers.ChoiceField(choices=MessageKind.choices, required=False)
    channel = serializers.ChoiceField(choices=ContactChannel.choices, required=False)
    site = SiteCodeField(required=False)
    sent_within = serializers.IntegerField(
        required=False, min_value=1, max_value=3660, help_text="Sent in the last N days."
    )


class MessageListView(generics.ListAPIView):
    """The outbox at the user's sites, newest first: data managers, monitors and the PI read every site of
    their study, coordinators and investigators their own."""

    serializer_class = MessageOut
    pagination_class = Pagination
    query_class = MessageListQuery

    def get_queryset(self):
        return message_list(user=self.request.user, **list_query(self))


class MessageStepView(APIView):
    """Answer an unconfirmed message (409 in any other state): site staff of its site or a data manager."""

    service = None

    @extend_schema(request=None, responses=MessageOut)
    def post(self, request, pk):
        message = get_object_or_404(message_list(user=request.user), pk=pk)
        message = self.service(actor=request.user, message=message)
        return Response(MessageOut(message_list(user=request.user).get(pk=message.pk)).data)


class MessageConfirmView(MessageStepView):
    """Staff say the message did arrive: it becomes sent, its note naming who confirmed it."""

    service = staticmethod(services.message_confirm)


class MessageResendView(MessageStepView):
    """Send the message again: pending and due now; the dispatcher sends it with a fresh link."""

    service = staticmethod(services.message_resend)


class DigestSettings(serializers.Serializer):
    daily = serializers.BooleanField(
        source="daily_digest", help_text="The daily digest (coordinators, investigators)."
    )
    weekly = serializers.BooleanField(
        source="weekly_digest", help_text="The weekly digest (principal investigators)."
    )
    language = serializers.ChoiceField(choices=LANGUAGES, help_text="The language they are written in.")


class DigestSettingsIn(StrictInput, DigestSettings):
    """The fields to change (unknown ones are refused)."""


class DigestSettingsView(APIView):
    """The signed-in user's own digests: each kind on or off, and their language. PATCH changes the fields
    given; a digest switched off today is not sent, even if it was planned already."""

    @extend_schema(responses=DigestSettings)
    def get(self, request):
        return Response(DigestSettings(digest_setting(request.user)).data)

    @extend_schema(request=DigestSettingsIn, responses=DigestSettings)
    def patch(self, request):
        current = digest_setting(request.user)
        given = DigestSettingsIn(current, data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        values = {"daily_digest": current.daily_digest, "weekly_digest": current.weekly_digest}
        values.update(given.validated_data)
        setting = services.digest_settings_update(
            actor=request.user,
            daily=values["daily_digest"],
            weekly=values["weekly_digest"],
            language=values.get("language", current.language),
        )
        return Response(DigestSettings(setting).data)


urlpatterns = [
    path("messages/", MessageListView.as_view(), name="message-list"),
    path("messages/digests/", DigestSettingsView.as_view(), name="digest-settings"),
    path("messages/<int:pk>/confirm/", MessageConfirmView.as_view(), name="message-confirm"),
    path("messages/<int:pk>/resend/", MessageResendView.as_view(), name="message-resend"),
]
