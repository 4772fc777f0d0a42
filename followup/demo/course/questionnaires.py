"""The questionnaires of a course: ODI and VAS answers scored by the instruments, and patients' drafts."""

import datetime
import random

from trial.models import Role

from ...instruments import INSTRUMENTS, score_answers
from ...models import ResponseSource, ResponseStatus
from ..rates import (
    ENGLISH_SHARE,
    FRACTURE_PAIN,
    MULTI_TICK,
    ODI_MEANS,
    SEX_LIFE,
    SEX_LIFE_SKIPPED,
    SOURCES,
    TWO_SKIPPED,
    VAS_MEANS,
)
from .draws import at, clamp, mean_at, weighted
from .story import Story


def odi_answers(rng: random.Random, score: float) -> list:
    mean = score / 20
    answers: list = [clamp(rng.gauss(mean, 0.8), 0, 5) for _ in range(10)]
    if rng.random() < MULTI_TICK:
        i = rng.randrange(10)
        if answers[i] < 5:
            answers[i] = [answers[i], answers[i] + 1]
    if rng.random() < SEX_LIFE_SKIPPED:
        answers[SEX_LIFE] = None
        if rng.random() < TWO_SKIPPED / SEX_LIFE_SKIPPED:
            answers[rng.choice([i for i in range(10) if i != SEX_LIFE])] = None
    return answers


class QuestionnaireDraws(Story):
    """The questionnaire responses of a course's visits."""

    def _score(self, instrument: str, day: datetime.date) -> float:
        post = self._post_day(day)
        table = VAS_MEANS if instrument == "vas" else ODI_MEANS
        value = mean_at(table, post, self.rng)
        if self._hurts(day):
            value += FRACTURE_PAIN[0] if instrument == "vas" else FRACTURE_PAIN[1]
        return value

    def _answers(self, instrument: str, day: datetime.date):
        value = self._score(instrument, day)
        if instrument == "vas":
            return {"pain": clamp(value, 0, 100)}
        return odi_answers(self.rng, max(0.0, min(100.0, value)))

    def _answer(self, code: str, instrument: str, day: datetime.date, *, final: bool) -> None:
        rng, person = self.rng, self.person
        answers = self._answers(instrument, day)
        result = score_answers(instrument, answers)
        source = weighted(rng, SOURCES) if final else ResponseSource.PATIENT
        self.plan.responses.append(
            {
                "participant_id": person.key,
                "visit_code": code,
                "instrument": instrument,
                "instrument_version": INSTRUMENTS[instrument].version,
                "source": source,
                "language": "en" if rng.random() < ENGLISH_SHARE else "zh-hans",
                "answers": answers,
                "score": str(result.score) if result.score is not None else None,
                "band": result.band or "",
                "answered": result.answered,
                "status": ResponseStatus.FINAL if final else ResponseStatus.DRAFT,
                "completed_on": day.isoformat() if final else None,
                "entered_by": None if source == ResponseSource.PATIENT else Role.COORDINATOR,
                "created_at": at(person, day, 10),
                "updated_at": at(person, day, 10.25),
                "submitted_at": at(person, day, 10.25) if final else None,
                "version": 1 if source == ResponseSource.PATIENT else 2,
            }
        )

    def _patient_draft(self, row: dict, visit) -> None:
        """The patient opened the link and answered part of a questionnaire (a draft, not final)."""
        if "odi" not in visit.questionnaires:
            return
        day = self.today - datetime.timedelta(days=1)
        answered = self.rng.randint(3, 8)  # sections answered before the patient stopped
        answers = self._answers("odi", day)[:answered] + [None] * (10 - answered)
        result = score_answers("odi", answers)
        self.plan.responses.append(
            {
                "participant_id": self.person.key,
                "visit_code": row["code"],
                "instrument": "odi",
                "instrument_version": INSTRUMENTS["odi"].version,
                "source": ResponseSource.PATIENT,
                "language": "zh-hans",
                "answers": answers,
                "score": str(result.score) if result.score is not None else None,
                "band": result.band or "",
                "answered": result.answered,
                "status": ResponseStatus.DRAFT,
                "completed_on": None,
                "entered_by": None,
                "created_at": at(self.person, day, 20),
                "updated_at": at(self.person, day, 20.1),
                "submitted_at": None,
                "version": 1,
            }
        )
