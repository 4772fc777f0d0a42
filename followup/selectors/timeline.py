"""A participant's follow-up at a glance: each visit with its window, status, forms and questionnaires."""

import datetime
from dataclasses import dataclass, field

from crf.engine.definitions import form_definition
from crf.models import FormRecord
from trial.i18n import localized
from trial.models import Participant

from ..models import AdjudicationCase, Instrument, QuestionnaireResponse, Visit, VisitStatus
from ..question import CASE_SECTION
from ..schedule import participant_followed, visit_status


@dataclass
class TimelineItem:
    """A form or questionnaire expected at a visit, and what has been entered."""

    kind: str  # "form" or "questionnaire"
    code: str
    title: str
    status: str  # the record's or response's status, or "" when nothing is entered yet
    status_label: str
    score: object = None
    band: str = ""


@dataclass
class TimelineVisit:
    visit: Visit
    label: str  # in the page's language
    status: str
    status_label: str
    days_overdue: int
    items: list[TimelineItem] = field(default_factory=list)


def participant_timeline(participant: Participant, *, today: datetime.date) -> list[TimelineVisit]:
    """Visits in order with their items. Three queries whatever the number of visits."""
    visits = list(Visit.objects.filter(participant=participant).order_by("target_date", "sequence", "id"))
    records = {
        (record.visit_code, record.form_code): record
        for record in FormRecord.objects.filter(participant=participant)
        .exclude(visit_code="")
        .only("id", "visit_code", "form_code", "status")
    }
    responses = {
        (response.visit_id, response.instrument): response
        for response in QuestionnaireResponse.objects.filter(participant=participant).only(
            "id", "visit_id", "instrument", "status", "score", "band"
        )
    }
    timeline = []
    followed = participant_followed(participant.status)
    for visit in visits:
        status = visit_status(visit.state, visit.window_open, visit.window_close, today, followed=followed)
        row = TimelineVisit(
            visit=visit,
            label=localized(visit.label),
            status=status,
            status_label=_status_label(status),
            days_overdue=(today - visit.window_close).days if status == "overdue" else 0,
        )
        for code in visit.forms:
            record = records.get((visit.code, code))
            definition = form_definition(code)
            row.items.append(
                TimelineItem(
                    kind="form",
                    code=code,
                    title=localized(definition.title) if definition else code,
                    status=record.status if record else "",
                    status_label=record.get_status_display() if record else "",
                )
            )
        for code in visit.questionnaires:
            response = responses.get((visit.pk, code))
            row.items.append(
                TimelineItem(
                    kind="questionnaire",
                    code=code,
                    title=str(Instrument(code).label) if code in Instrument.values else code,
                    status=response.status if response else "",
                    status_label=response.get_status_display() if response else "",
                    score=response.score if response else None,
                    band=response.band if response else "",
                )
            )
        timeline.append(row)
    return timeline


def participant_cases(participant: Participant):
    """The participant's cases, each with its study's question section (question.answered: no query more)."""
    cases = AdjudicationCase.objects.filter(participant=participant).select_related("visit")
    return cases.annotate(adjudication_section=CASE_SECTION).order_by("id")


def _status_label(status: str) -> str:
    return str(VisitStatus(status).label)
