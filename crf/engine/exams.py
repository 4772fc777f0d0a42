"""The engine's side of an `exam` field (crf/forms/FORMAT.md, "Imaging exams"): its stored value, and the
rules of its checks. Pure: the caller (crf/services/exams.py) resolves what was sent to one of the
participant's registered exams (trial.ImagingExam) and hands their facts in the check context.

Stored value: the exam's id (a whole number). The StudyInstanceUID is never stored: a pasted one is matched
through its keyed hash before the engine sees the data.

Rules (each judged on the field it is declared on; None when its inputs are missing):
- exam_linked: scheduled | any. Broken when no exam is linked at a visit of that kind (scheduled visits, or
  any visit). A participant-level form has no visit: not judged.
- exam_in_window: {unscheduled_days: N}. Broken when the linked exam's study date is outside the window of
  the visit that collects the form (window_open..window_close, both days included). An unscheduled visit's
  window is the day it took place: its exam may be N days before or after it.
- exam_date_of: <exam field>. On a date field: broken when the date is not the linked exam's study date.
"""

import datetime
from collections.abc import Mapping

from django.utils.translation import gettext as _

from trial.eligibility import ExamFact

from .exam_schema import EXAM_RULES  # noqa: F401 (the rules judged here)

UNSCHEDULED = "unscheduled"  # followup.models.VisitKind.UNSCHEDULED, as crf.hooks.VisitLike gives it


def clean_exam(value) -> int:
    """An exam's id as stored; ValueError with the message to show. What a person sends (an id, a pasted
    UID) was resolved to an id of the participant's exams by the service before this."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(_("Pick one of the participant's imaging exams, or paste its StudyInstanceUID."))
    text = str(value).strip()
    if not text.isdigit() or len(text) > 18 or int(text) < 1:
        raise ValueError(_("Pick one of the participant's imaging exams, or paste its StudyInstanceUID."))
    return int(text)


def _day(value) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def exam_rule_fails(name: str, arg, value, data: Mapping, context) -> bool | None:
    """True when an exam rule is broken, False when it holds, None when it cannot be judged. `context`:
    validate.CheckContext (its visit and the linked exams' facts)."""
    exams: Mapping[int, ExamFact] = context.exams
    if name == "exam_linked":
        if context.visit_kind is None:
            return None
        needed = arg == "any" or context.visit_kind != UNSCHEDULED
        return needed and value is None
    if name == "exam_in_window":
        exam = exams.get(value) if value is not None else None
        if exam is None or context.visit_window is None:
            return None
        opens, closes = context.visit_window
        if context.visit_kind == UNSCHEDULED:
            margin = datetime.timedelta(days=arg.get("unscheduled_days", 0))
            opens, closes = opens - margin, closes + margin
        return not opens <= exam.study_date <= closes
    if name == "exam_date_of":
        linked = data.get(arg)
        exam = exams.get(linked) if linked is not None else None
        if exam is None or value is None:
            return None
        return _day(value) != exam.study_date
    return None
