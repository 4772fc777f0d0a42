"""Follow-up pages: visits due and overdue, participant timelines, questionnaire entry, and patient links."""

from .views import patient, visits

urlpatterns = visits.urlpatterns + patient.urlpatterns
