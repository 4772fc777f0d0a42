"""The log of reads of identifying data, for data managers and superusers (403 for anyone else): who read
whose, when, what and through what. Never an identifying value: the participant is named by study ID."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers

from ..identity_reads import IdentityReadFilter, identity_read_list
from ..models import IdentityChannel, IdentityRead, IdentityShown


class IdentityReadOut(serializers.Serializer):
    read_at = serializers.DateTimeField()
    user = serializers.CharField(source="user.username", help_text="The reader's user name.")
    user_name = serializers.CharField(source="user.get_full_name")
    participant = serializers.CharField(
        source="participant.study_id", help_text="The participant's study ID."
    )
    site = serializers.CharField(source="site.code")
    shown = serializers.ChoiceField(choices=IdentityShown.choices)
    via = serializers.ChoiceField(
        source="channel", choices=IdentityChannel.choices, help_text="Shown on a page or answered by the API."
    )


class ReadRefused(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class IdentityReadList(generics.ListAPIView):
    """Reads of identifying data at the sites you manage data for, newest first."""

    serializer_class = IdentityReadOut
    filterset_class = IdentityReadFilter
    queryset = IdentityRead.objects.none()  # for the schema only: get_queryset scopes it to the reader

    def get_queryset(self):
        return identity_read_list(user=self.request.user)

    @extend_schema(
        summary="The log of reads of identifying data",
        responses={
            200: IdentityReadOut(many=True),
            403: OpenApiResponse(ReadRefused, description="Not a data manager (nor a superuser)."),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
