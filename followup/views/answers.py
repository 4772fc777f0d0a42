"""Questionnaire forms <-> answers, shared by the patient's page and the coordinator's entry page."""

import re

from django.urls import reverse
from django.utils.translation import gettext as _

from ..instruments import ODI, instrument_def

NUMBER = re.compile(r"^[+-]?\d{1,9}$")


def patient_url(token: str) -> str:
    return reverse("patient-questionnaire", kwargs={"token": token})


def _number_or_text(text: str):
    """A whole number when it is one; anything else goes to the service as typed, which refuses it by item."""
    text = text.strip()
    return int(text) if NUMBER.match(text) else text[:32]


def answers_from_post(instrument: str, data) -> list | dict:
    """The answers a questionnaire form sent: ODI fields q0..q9 (one value, or several boxes ticked on paper);
    VAS: the patient's line pain_mark, counted only with pain_marked (a line always has a value, its middle
    before any touch), or the staff's number box pain (millimetres measured on paper)."""
    if instrument_def(instrument) is ODI:
        answers = []
        for i in range(len(ODI.sections)):
            values = [_number_or_text(v) for v in data.getlist(f"q{i}") if v.strip()]
            answers.append(None if not values else values[0] if len(values) == 1 else values)
        return answers
    if "pain_mark" in data:
        raw = data.get("pain_mark", "").strip() if data.get("pain_marked") else ""
    else:
        raw = data.get("pain", "").strip()
    return {"pain": _number_or_text(raw) if raw else None}


def questionnaire_view(definition: dict, answers, field_errors: dict | None = None) -> dict:
    """The definition with the answers ticked and each item's errors, for the templates."""
    field_errors = field_errors or {}
    view = {**definition, "answered": 0, "errors": list(field_errors.get("answers", []))}
    if "items" in definition:
        answers = answers if isinstance(answers, list) else []
        items = []
        for item in definition["items"]:
            value = answers[item["index"]] if item["index"] < len(answers) else None
            chosen = {v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int | str)}
            options = item["options"] or [
                {"value": v, "text": str(v)} for v in range(ODI.statements_per_section)
            ]
            answered = any(option["value"] in chosen for option in options)
            view["answered"] += answered
            items.append(
                {
                    **item,
                    "field": f"q{item['index']}",
                    "options": [{**option, "checked": option["value"] in chosen} for option in options],
                    "answered": answered,
                    "errors": field_errors.get(f"answers[{item['index']}]", []),
                }
            )
        # "sections", not "items": a template reading questionnaire.items would get dict.items.
        view["items"] = view["sections"] = items
        view["total"] = len(items)
        view["unanswered"] = [item for item in items if not item["answered"]]
    else:
        value = answers.get("pain") if isinstance(answers, dict) else None
        view["pain"] = value if isinstance(value, int) and not isinstance(value, bool) else None
        view["pain_typed"] = "" if value is None else str(value)
        view["pain_errors"] = field_errors.get("answers.pain", [])
        view["answered"], view["total"] = int(view["pain"] is not None), 1
        view["unanswered"] = [] if view["pain"] is not None else [{"name": _("Pain")}]
    known = {f"answers[{i}]" for i in range(len(ODI.sections))} | {"answers", "answers.pain"}
    view["errors"] += [m for key, messages in field_errors.items() if key not in known for m in messages]
    return view
