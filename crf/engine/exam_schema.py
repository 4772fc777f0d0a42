"""The parts of a form file that link an imaging exam (crf/forms/FORMAT.md, "Imaging exams"): the `exam`
field's modalities, the rules of its checks, and how they refer to the form. Declared beside schema.py, which
uses them."""

from typing import Annotated, Literal

from pydantic import Field

from trial.schema import StrictModel, code, distinct, problem, says, shaped

Modality = code(r"^[A-Z0-9]{2,16}$", "MR", rule="is not a DICOM modality in capitals, e.g. MR")
Modalities = Annotated[list[Modality], Field(min_length=1), distinct, shaped("a list, e.g. [MR]")]

# exam_linked: the visits at which a form saved with no exam raises a query.
EXAM_LINKED_AT = ("scheduled", "any")
ExamLinkedAt = Annotated[
    Literal[EXAM_LINKED_AT],
    says(f"must be one of {', '.join(EXAM_LINKED_AT)}: the visits that need the exam"),
]
EXAM_RULES = ("exam_linked", "exam_in_window", "exam_date_of")  # judged by crf/engine/exams.py


class ExamWindow(StrictModel):
    """`exam_in_window`: how far an unscheduled visit's exam may be from its date (its window is that day)."""

    unscheduled_days: Annotated[
        int, Field(ge=0, le=365), says("must be a whole number of days, 0 to 365")
    ] = 0


ExamWindowArg = Annotated[ExamWindow, shaped("a mapping, e.g. {unscheduled_days: 14}, or {}")]


def exam_problems(form) -> list:
    """An exam field is a top-level field; the exam rules apply to one (exam_linked, exam_in_window) or, for
    exam_date_of, to a top-level date field and name a top-level exam field. `form`: schema.Form."""
    found = [
        problem(("groups", g, "fields", f, "type"), "an exam field is a top-level field, not a row's")
        for g, group in enumerate(form.groups)
        for f, spec in enumerate(group.fields)
        if spec.type == "exam"
    ]
    for index, check in enumerate(form.checks):
        name = check.rule.name
        spec = form.field(check.field)
        at = ("checks", index, "rule", name)
        if name in ("exam_linked", "exam_in_window") and (spec is None or spec.type != "exam"):
            found.append(problem(at, f"{name} is a check of a top-level exam field"))
        if name == "exam_date_of":
            exam = form.field(check.rule.exam_date_of)
            if spec is None or spec.type != "date":
                found.append(
                    problem(at, f"exam_date_of compares dates: {check.field} is not a top-level one")
                )
            if exam is None or exam.type != "exam":
                found.append(problem(at, f"{check.rule.exam_date_of} is not a top-level exam field"))
    return found
