"""Follow-up API URLs under /api/v1/: visits, questionnaires and instrument scoring, adjudication cases, the
study endpoint and the readers' agreement."""

from . import adjudication, questionnaires, queue, visits

urlpatterns = visits.urlpatterns + questionnaires.urlpatterns + adjudication.urlpatterns + queue.urlpatterns

from . import patient  # noqa: E402 -- the patient-link API (appended)

urlpatterns += patient.urlpatterns

from . import messages  # noqa: E402 -- the outbox API (appended)

urlpatterns += messages.urlpatterns

from . import endpoint  # noqa: E402 -- the study's endpoint and readers' agreement (appended)

urlpatterns += endpoint.urlpatterns

from . import registered  # noqa: E402 -- the registered vertebrae's cases (appended)

urlpatterns += registered.urlpatterns
