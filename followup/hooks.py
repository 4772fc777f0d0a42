"""What follow-up does when research data changes: called explicitly by the services that change it.

Plain function calls inside the caller's transaction, not signals (style.md): the visit schedule and the
adjudication cases change atomically with the record or status that drives them.
"""

from .models import Visit
from .services.adjudication import adjudication_sync
from .services.registered import registered_cases_open
from .services.visits import visits_on_participant_status, visits_on_record


def record_written(*, record, form, actor) -> None:
    """A CRF record was saved or changed state: schedule visits, open or cancel adjudication cases."""
    visits_on_record(record=record, actor=actor)
    adjudication_sync(record=record, form=form)


def participant_status_changed(*, participant, actor) -> None:
    """A participant was enrolled (or registered), withdrew, died, was lost or was reinstated: their pending
    visits follow; a case registered under a protocol whose cases are its registered vertebrae gets them,
    with their readers."""
    visits_on_participant_status(participant=participant, actor=actor)
    registered_cases_open(participant=participant)


def visit_of(*, participant, code: str) -> Visit | None:
    """The participant's visit with this code (one query), for crf's visit forms."""
    return Visit.objects.filter(participant=participant, code=code).first()
