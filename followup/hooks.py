"""What follow-up does when research data changes: called explicitly by the services that change it.

Plain function calls inside the caller's transaction, not signals (style.md): the visit schedule and the
adjudication cases change atomically with the record or status that drives them.
"""

from .models import Visit
from .services.adjudication import adjudication_sync
from .services.visits import visits_on_participant_status, visits_on_record


def record_written(*, record, form, actor) -> None:
    """A CRF record was saved or changed state: schedule visits, open or cancel adjudication cases."""
    visits_on_record(record=record, actor=actor)
    adjudication_sync(record=record, form=form)


def participant_status_changed(*, participant, actor) -> None:
    """A participant withdrew, died, was lost or was reinstated: their pending visits follow."""
    visits_on_participant_status(participant=participant, actor=actor)


def visit_of(*, participant, code: str) -> Visit | None:
    """The participant's visit with this code (one query), for crf's visit forms."""
    return Visit.objects.filter(participant=participant, code=code).first()
