"""API views: parse, call one service, answer. Rules live in services; scoping in selectors and access."""

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from knox import views as knox_views
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from .. import selectors, services, signin, twofactor
from ..access import can_read_identity, visible_sites
from ..audit import request_reason
from ..errors import Forbidden, InvalidInput
from ..filters import ParticipantFilter, ScreeningFilter
from ..models import IdentityChannel, IdentityShown, ParticipantIdentity, ParticipantStatus, Site, Study
from ..services.tokens import api_token_issue
from . import serializers as s
from .filtering import list_query
from .headers import reason_header

REASON_PARAMETER = reason_header(
    required=True,
    description="Why the record is changed (kept in the audit trail); 400 `reason_required` without.",
)


def _second_factor_check(user, code: str) -> None:
    """Refuse a token to a user who must use two-factor sign-in (trial/twofactor.py) unless `code` is a code
    of their authenticator app or an unused recovery code: 403 `two_factor_setup_required` with no device
    enrolled yet (enrolment is on the pages, with a QR code), 400 with the `otp` field named otherwise."""
    if not twofactor.two_factor_required(user):
        return
    if not twofactor.has_authenticator(user):
        raise Forbidden(
            _("Set up two-factor sign-in on the web pages first; then ask for a token with a code."),
            code="two_factor_setup_required",
        )
    code = code.strip()
    if not code:
        message = _("Enter the code from your authenticator app, or a recovery code.")
        raise InvalidInput(message, field_errors={"otp": [message]}, code="otp_required")
    if not twofactor.otp_verify(user, code):
        wait = twofactor.seconds_to_wait(user)
        message = _("The code is not correct.")
        if wait:
            message = _("The code is not correct. Wait %(seconds)s seconds before the next one.") % {
                "seconds": wait
            }
        raise InvalidInput(message, field_errors={"otp": [message]}, code="otp_wrong")


# No security requirement, rather than drf-spectacular's [{}] ("anonymous allowed"): the endpoint reads no
# credentials at all, and generated clients (openapi-python-client) take [{}] as "needs a token".
@extend_schema_view(post=extend_schema(auth=[]))
class TokenView(APIView):
    """POST {username, password[, otp]} -> {"token", "expiry"}: an API token that expires (API_TOKEN_HOURS).

    Users who must use two-factor sign-in also send `otp`: a code of their authenticator app or a recovery
    code (`_second_factor_check`).

    Wrong credentials answer 400 with a message. Repeated failures from one address for one username lock
    that pair out (django-axes): 429 with a message, even with the right password, until the cool-off ends.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.TokenIn,
        responses={
            200: s.TokenOut,
            400: OpenApiResponse(
                s.TokenRefused, description="Missing fields, wrong credentials, or a missing or wrong `otp`."
            ),
            403: OpenApiResponse(
                s.SignInError, description="Two-factor sign-in is required and not yet set up on the pages."
            ),
            429: OpenApiResponse(
                s.SignInError, description="Too many failed sign-ins for this username from this address."
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        data = s.TokenIn(data=request.data)
        data.is_valid(raise_exception=True)
        # axes marks the Django request (not DRF's wrapper) when this client is locked out.
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if getattr(request._request, "axes_locked_out", False):
            return signin.lockout_response(request._request)
        if user is None:
            raise InvalidInput(
                _("Unable to log in with provided credentials."),
                field_errors={"non_field_errors": [_("Unable to log in with provided credentials.")]},
            )
        # Second factor: after the password and before any token is issued; a token carries no session, so
        # this is the only place a token user's second factor is checked.
        _second_factor_check(user, data.validated_data.get("otp", ""))
        key, expiry = api_token_issue(user=user)
        # Django's and axes' login records: last_login, the access log, the failure count reset.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        return Response(s.TokenOut({"token": key, "expiry": expiry}).data)


NO_TOKEN = OpenApiResponse(s.SignInError, description="No token, or one that has expired or was revoked.")


class LogoutView(knox_views.LogoutView):
    """POST with the token: that token stops working (204)."""

    # knox names IsAuthenticated; the project's default (the permission matrix) judges these too.
    permission_classes = api_settings.DEFAULT_PERMISSION_CLASSES

    @extend_schema(request=None, responses={204: None, 401: NO_TOKEN})
    def post(self, request, format=None):
        return super().post(request, format)


class LogoutAllView(knox_views.LogoutAllView):
    """POST with a token: every token of its user stops working (204)."""

    permission_classes = api_settings.DEFAULT_PERMISSION_CLASSES

    @extend_schema(request=None, responses={204: None, 401: NO_TOKEN})
    def post(self, request, format=None):
        return super().post(request, format)


def _study_and_site(study_code: str, site_code: str) -> tuple[Study, Site]:
    study = Study.objects.select_related("current_version").filter(code=study_code).first()
    if study is None:
        raise InvalidInput(
            _("Unknown study."),
            field_errors={"study": [_("Unknown study: %(code)s.") % {"code": study_code}]},
        )
    site = Site.objects.filter(study=study, code=site_code, active=True).first()
    if site is None:
        raise InvalidInput(
            _("Unknown site."), field_errors={"site": [_("Unknown site: %(code)s.") % {"code": site_code}]}
        )
    return study, site


class StudyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.StudyOut
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9_-]+"
    pagination_class = None

    def get_queryset(self):
        return (
            selectors.study_list()
            .filter(pk__in=visible_sites(self.request.user).values("study"))
            .order_by("code")
        )

    @extend_schema(request=s.EvaluateIn, responses=s.VerdictOut)
    @action(detail=True, methods=["post"])
    def eligibility(self, request, code=None):
        """The verdict for the answers so far, without saving (the screening form's live verdict)."""
        study = self.get_object()
        data = s.EvaluateIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if v is not None}
        _study, site = _study_and_site(study.code, values.pop("site"))
        verdict = services.screening_evaluate(study=study, site=site, data=values)
        return Response(s.VerdictOut(verdict).data)

    @extend_schema(responses=s.FlowOut)
    @action(detail=True, methods=["get"])
    def flow(self, request, code=None):
        """STROBE participant flow: screened, ineligible (by criterion), eligible, not enrolled (by reason),
        enrolled, and participants by status, over the sites the user may see."""
        return Response(
            s.FlowOut(selectors.participant_flow(study=self.get_object(), user=request.user)).data
        )


class ScreeningViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ScreeningOut
    filterset_class = ScreeningFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.screening_list(user=self.request.user)

    def kept_total(self) -> int:
        return selectors.screening_total(user=self.request.user)

    @extend_schema(request=s.ScreeningIn, responses={201: s.ScreeningOut})
    def create(self, request, *args, **kwargs):
        data = s.ScreeningIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        study, site = _study_and_site(values.pop("study"), values.pop("site"))
        screening = services.screening_create(actor=request.user, study=study, site=site, data=values)
        screening = self.get_queryset().get(pk=screening.pk)
        return Response(s.ScreeningOut(screening).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ScreeningPatch, responses=s.ScreeningOut, parameters=[REASON_PARAMETER])
    def partial_update(self, request, *args, **kwargs):
        screening = self.get_object()
        data = s.ScreeningPatch(data=request.data)
        data.is_valid(raise_exception=True)
        services.screening_update(
            actor=request.user, screening=screening, data=data.validated_data, reason=request_reason(request)
        )
        return Response(s.ScreeningOut(self.get_queryset().get(pk=screening.pk)).data)

    @extend_schema(responses=s.HistoryEventOut(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        list_query(self)  # takes no parameter: the log's filters are not the history's
        return Response(s.HistoryEventOut(selectors.history_for(self.get_object()), many=True).data)

    @extend_schema(request=s.EnrollIn, responses={201: s.ParticipantOut})
    @action(detail=True, methods=["post"])
    def enroll(self, request, pk=None):
        screening = self.get_object()
        data = s.EnrollIn(data=request.data)
        data.is_valid(raise_exception=True)
        participant = services.participant_enroll(
            actor=request.user, screening=screening, **data.validated_data
        )
        return Response(s.ParticipantOut(participant).data, status=status.HTTP_201_CREATED)


class ParticipantViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ParticipantOut
    filterset_class = ParticipantFilter
    lookup_field = "study_id"
    lookup_value_regex = "[A-Za-z0-9_-]+"

    def get_queryset(self):
        return selectors.participant_list(user=self.request.user)

    def kept_total(self) -> int:
        return selectors.participant_total(user=self.request.user)

    def _set_status(self, request, new_status):
        participant = self.get_object()
        data = s.StatusChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        participant = services.participant_set_status(
            actor=request.user, participant=participant, status=new_status, **data.validated_data
        )
        return Response(s.ParticipantOut(participant).data)

    @extend_schema(request=s.StatusChangeIn, responses=s.ParticipantOut)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, study_id=None):
        return self._set_status(request, ParticipantStatus.WITHDRAWN)

    @extend_schema(request=s.StatusChangeIn, responses=s.ParticipantOut)
    @action(detail=True, methods=["post"], url_path="lost-to-follow-up")
    def lost_to_follow_up(self, request, study_id=None):
        return self._set_status(request, ParticipantStatus.LOST_TO_FOLLOW_UP)

    @extend_schema(request=s.StatusChangeIn, responses=s.ParticipantOut)
    @action(detail=True, methods=["post"])
    def died(self, request, study_id=None):
        """Record a death (final): the remaining visits become not applicable."""
        return self._set_status(request, ParticipantStatus.DIED)

    @extend_schema(request=s.StatusChangeIn, responses=s.ParticipantOut)
    @action(detail=True, methods=["post"])
    def reinstate(self, request, study_id=None):
        """A participant lost to follow-up turned up again. Withdrawal is final and cannot be undone."""
        return self._set_status(request, ParticipantStatus.ENROLLED)

    @extend_schema(methods=["GET"], responses=s.IdentityOut)
    @extend_schema(
        methods=["PATCH"], request=s.IdentityPatch, responses=s.IdentityOut, parameters=[REASON_PARAMETER]
    )
    @action(detail=True, methods=["get", "patch"])
    def identity(self, request, study_id=None):
        """Identifying data: read and corrected only by the participant's own site staff."""
        participant = self.get_object()
        if not can_read_identity(request.user, participant.site):
            raise Forbidden(_("Only the participant's own site staff may see identifying data."))
        if request.method == "PATCH":
            data = s.IdentityPatch(data=request.data)
            data.is_valid(raise_exception=True)
            identity = services.participant_identity_update(
                actor=request.user,
                participant=participant,
                changes=data.validated_data,
                reason=request_reason(request),
            )
        else:
            identity = get_object_or_404(ParticipantIdentity, participant=participant)
        services.identity_read_log(
            actor=request.user,
            participants=[participant],
            shown=IdentityShown.IDENTITY,
            channel=IdentityChannel.API,
        )
        return Response(s.IdentityOut(identity).data)

    @extend_schema(responses=s.HistoryEventOut(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, study_id=None):
        list_query(self)  # takes no parameter: the list's filters are not the history's
        return Response(s.HistoryEventOut(selectors.history_for(self.get_object()), many=True).data)

    def _own_site_participant(self, request):
        """The participant, if the user is their site's own staff (as for identifying data)."""
        participant = self.get_object()
        if not can_read_identity(request.user, participant.site):
            raise Forbidden(_("Only the participant's own site staff may see or change contact details."))
        return participant

    @extend_schema(methods=["GET"], responses=s.OptOutOut(many=True))
    @extend_schema(methods=["POST"], request=s.OptOutIn, responses={201: s.OptOutOut})
    @action(
        detail=True, methods=["get", "post"], url_path="opt-outs", pagination_class=None, filter_backends=[]
    )
    def opt_outs(self, request, study_id=None):
        """Opt-outs of messages per channel, ended ones included: read and recorded by own site staff."""
        if request.method == "GET":
            list_query(self)
        participant = self._own_site_participant(request)
        if request.method == "POST":
            data = s.OptOutIn(data=request.data)
            data.is_valid(raise_exception=True)
            opt_out = services.opt_out_record(
                actor=request.user, participant=participant, **data.validated_data
            )
            return Response(s.OptOutOut(opt_out).data, status=status.HTTP_201_CREATED)
        opt_outs = selectors.contact_opt_outs(participant=participant)
        services.identity_read_log(
            actor=request.user,
            participants=[participant],
            shown=IdentityShown.CONTACT_DETAILS,
            channel=IdentityChannel.API,
        )
        return Response(s.OptOutOut(opt_outs, many=True).data)

    @extend_schema(request=None, responses=s.OptOutOut, parameters=[REASON_PARAMETER])
    @action(detail=True, methods=["delete"], url_path="opt-outs/(?P<channel>[a-z]+)")
    def opt_out_end(self, request, study_id=None, channel=None):
        """End the opt-out in force on a channel (the participant opted in again): its end date is set to
        today at the site; the row stays. Needs X-Change-Reason."""
        participant = self._own_site_participant(request)
        opt_out = services.opt_out_end(
            actor=request.user, participant=participant, channel=channel, reason=request_reason(request)
        )
        return Response(s.OptOutOut(opt_out).data)
