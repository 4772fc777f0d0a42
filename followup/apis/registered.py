"""A data manager's step for a study whose cases are its registered fractured vertebrae (the protocol's
`adjudication.cases: registered_levels`): open the cases registered before, and fill the readers' empty
slots. Registration opens a case's own at once (services/registered.py); this is for the rest. Idempotent.
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from trial.access import visible_sites
from trial.models import Study

from ..services.registered import study_registered_cases_open


class OpenedOut(serializers.Serializer):
    opened = serializers.IntegerField(
        help_text="Cases opened (0 when every registered vertebra has its case)."
    )
    assigned = serializers.IntegerField(help_text="Reader slots filled.")


class RegisteredCasesOpenView(APIView):
    @extend_schema(
        summary="Open the cases of registered vertebrae (the study's data managers)",
        description="One case per registered fractured vertebra of each registered participant that lacks "
        "it, and the two readers of every open case that lacks them. Idempotent. 409 "
        "`not_registered_levels` when the protocol does not take its cases from the registered vertebrae.",
        request=None,
        responses=OpenedOut,
    )
    def post(self, request, code):
        study = (
            Study.objects.filter(code=code, pk__in=visible_sites(request.user).values("study"))
            .select_related("current_version")
            .first()
        )
        if study is None:
            raise NotFound(_("Unknown study."))
        opened = study_registered_cases_open(study=study, actor=request.user)
        return Response(OpenedOut({"opened": opened.cases, "assigned": opened.assigned}).data)


urlpatterns = [
    path(
        "studies/<str:code>/adjudication-cases/open-registered/",
        RegisteredCasesOpenView.as_view(),
        name="study-registered-cases-open",
    ),
]
