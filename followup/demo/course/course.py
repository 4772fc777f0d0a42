"""A whole course of follow-up: the visits the protocol's schedule places, each drawn with what it collects;
followup_plan draws it for one participant."""

import datetime

from ...schedule import form_anchors, participant_anchors, plan_visits
from ..plan import Followed, Plan
from .mri import MriDraws
from .questionnaires import QuestionnaireDraws
from .visits import VisitDraws


class Course(VisitDraws, QuestionnaireDraws, MriDraws):
    """Draws one participant's follow-up."""

    def build(self) -> Plan:
        person = self.person
        # The demo knows two kinds of anchor dates: the participant's (enrollment) and the procedure form's.
        anchors = {
            name: getattr(person, field, None) for name, field in participant_anchors(person.visits).items()
        }
        procedure_anchors = form_anchors(person.visits, "procedure")
        if person.procedure_date:
            anchors |= dict.fromkeys(procedure_anchors, person.procedure_date)
        planned = plan_visits(person.visits, {k: v for k, v in anchors.items() if v})
        presented = self._unscheduled(planned)
        for visit in planned:
            self._scheduled(visit)
        for day, with_fracture in presented:
            self._add_unscheduled(day, with_fracture)
        self._cases()
        return self.plan


def followup_plan(person: Followed, *, seed: int, today: datetime.date) -> Plan:
    """One participant's visits, questionnaire responses, follow-up MRIs and adjudication cases on `today`."""
    return Course(person, seed=seed, today=today).build()
