"""The question a study's adjudicators answer: the protocol's `adjudication:` section
(trial/protocols/FORMAT.md), read where a case is opened, asked and shown.

One engine reads every study: the question's code and wording, its two answers, the parts of a verdict asked
beside the answer (the fractured levels, the acute signal, the Genant grade, the event date) and where the
cases come from. A protocol without the section asks the re-fracture question of NCT06379243, as adjudication
did before the section existed: cases from the follow-up MRI forms, every part asked.

A verdict stores the answer as `Verdict.fracture` and a final case as `AdjudicationCase.final_fracture`: True
is the question's `positive` answer (a new fracture; an acute vertebra), whatever the question.
"""

from dataclasses import dataclass

from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from trial.i18n import LANGUAGES, localized
from trial.models import Participant

from .models import AdjudicationCase


class CaseSource:
    """Where a study's cases come from."""

    # A follow-up MRI form's rows reporting a new fracture (the form's `adjudication`, crf/forms/FORMAT.md),
    # and findings a data manager enters by hand.
    FOLLOW_UP_MRI = "follow_up_mri"
    # One case per vertebra registered as fractured (Screening.fracture_levels), opened at registration.
    REGISTERED_LEVELS = "registered_levels"
    ALL = (FOLLOW_UP_MRI, REGISTERED_LEVELS)


class Part:
    """The parts of a verdict a question may ask beside its answer (each only with the positive answer)."""

    LEVELS = "levels"
    ACUTE_SIGNAL = "acute_signal"
    GENANT_GRADE = "genant_grade"
    EVENT_DATE = "event_date"
    ALL = (LEVELS, ACUTE_SIGNAL, GENANT_GRADE, EVENT_DATE)


def _every_language(text) -> dict[str, str]:
    """A lazily translated text in every language, as a protocol gives its texts."""
    found = {}
    for language in LANGUAGES:
        with translation.override(language):
            found[language] = str(text)
    return found


@dataclass(frozen=True)
class Question:
    code: str
    label: dict[str, str]  # {language: text}, as the protocol gives it
    positive: dict[str, str]  # the answer stored as True
    negative: dict[str, str]
    asks: tuple[str, ...]  # among Part.ALL, in that order
    cases: str  # one of CaseSource.ALL

    def text(self) -> str:
        """The question in the active language."""
        return localized(self.label)

    def answer_text(self, answer: bool | None) -> str:
        """An answer's label in the active language; a dash for none."""
        if answer is None:
            return "—"
        return localized(self.positive if answer else self.negative)

    @property
    def positive_text(self) -> str:
        return localized(self.positive)

    @property
    def negative_text(self) -> str:
        return localized(self.negative)

    def asked(self, part: str) -> bool:
        return part in self.asks

    @property
    def per_registered_level(self) -> bool:
        return self.cases == CaseSource.REGISTERED_LEVELS

    def as_data(self) -> dict:
        """For the API: the wording in every language, the parts asked and the cases' source."""
        return {
            "code": self.code,
            "label": self.label,
            "positive": self.positive,
            "negative": self.negative,
            "asks": list(self.asks),
            "cases": self.cases,
        }


def default_question() -> Question:
    """The question of a protocol without `adjudication:`: a new fracture at a non-operated level, from the
    follow-up MRI forms, every part asked (the labels are the verdict form's own, translated)."""
    return Question(
        code="new_fracture",
        label=_every_language(_("New non-operative vertebral fracture")),
        positive=_every_language(_("Yes")),
        negative=_every_language(_("No")),
        asks=Part.ALL,
        cases=CaseSource.FOLLOW_UP_MRI,
    )


def question_from(section: dict | None) -> Question:
    """The question of a protocol's `adjudication:` section as stored (checked when loaded:
    followup/protocol.py); the default one for none."""
    if not section:
        return default_question()
    question = section["question"]
    asks = set(section.get("asks") or ())
    return Question(
        code=question["code"],
        label=question["label"],
        positive=question["positive"],
        negative=question["negative"],
        asks=tuple(part for part in Part.ALL if part in asks),
        cases=section.get("cases", CaseSource.FOLLOW_UP_MRI),
    )


def definition_question(definition: dict | None) -> Question:
    """The question of a whole protocol definition (ProtocolVersion.definition)."""
    return question_from((definition or {}).get("adjudication"))


# For an annotation on cases: the `adjudication:` section of their study's current protocol, read in the
# query that reads the cases (no query of its own).
CASE_SECTION = F("site__study__current_version__definition__adjudication")


def case_question(case) -> Question:
    """The question of a case's study (its current protocol version): from the case's `adjudication_section`
    annotation (CASE_SECTION) when it has one, else one query."""
    if hasattr(case, "adjudication_section"):
        return question_from(case.adjudication_section)
    section = AdjudicationCase.objects.filter(pk=case.pk).values_list(CASE_SECTION, flat=True).first()
    return question_from(section)


def answered(case, verdicts=()) -> None:
    """Set the case's final answer in the words of a question asked alone (acute or chronic:
    `answer_label`), and its verdicts' (`answer_label` each); none for a question with parts (a new fracture,
    its levels and date), which the pages draw as before. No query when the case carries its section."""
    question = case_question(case)
    alone = not question.asks
    final = case.final_fracture
    case.answer_label = question.answer_text(final) if alone and final is not None else ""
    case.answer_alone = alone
    for verdict in verdicts:
        verdict.answer_label = question.answer_text(verdict.fracture) if alone else ""


def participant_question(participant_id: int) -> Question:
    """The question of a participant's study (its current protocol version). One query."""
    section = (
        Participant.objects.filter(pk=participant_id)
        .values_list(F("site__study__current_version__definition__adjudication"), flat=True)
        .first()
    )
    return question_from(section)


def study_question(study) -> Question:
    """The question of a study's current protocol version (loaded with the study: no query once
    `current_version` is read)."""
    version = study.current_version
    return definition_question(version.definition if version else None)
