"""Follow-up pages: visits due and overdue, participant timelines, questionnaire entry, patient links, the
outbox and each staff member's digests."""

from .views import messages, patient, visits

urlpatterns = visits.urlpatterns + patient.urlpatterns + messages.urlpatterns
