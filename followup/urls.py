"""Follow-up pages: visits due and overdue, participant timelines, questionnaire entry, patient links, the
outbox and each staff member's digests, the adjudication case board."""

from .views import board, messages, patient, visits

urlpatterns = visits.urlpatterns + patient.urlpatterns + messages.urlpatterns + board.urlpatterns
