"""Follow-up pages: visits due and overdue, participant timelines, questionnaire entry, patient links, the
outbox and each staff member's digests; the adjudication case board, and the adjudicator's queue and review
pages."""

from .views import board, messages, patient, review, visits

# The board before the review pages: /adjudication/<reading_code>/ would otherwise take /adjudication/cases/.
urlpatterns = (
    visits.urlpatterns + patient.urlpatterns + messages.urlpatterns + board.urlpatterns + review.urlpatterns
)
