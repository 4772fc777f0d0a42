"""The `visits:` section of a protocol file (trial/protocols/FORMAT.md): checked here, where visits are
understood, and registered with trial's protocol loader (trial.hooks.protocol_sections)."""

import re

from crf.engine.definitions import form_definition
from trial.services.protocols import text_errors

from .models import Instrument
from .schedule import occurrences  # the one rule that expands repeats

ANCHOR_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
VISIT_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")  # Visit.code is 16 characters, and a URL slug
UNSCHEDULED_CODE = re.compile(r"^U[0-9]+$")  # handed out to unscheduled visits: U1, U2...
PARTICIPANT_DATES = ("enrollment_date", "consent_date")
VISITS_KEYS = {"anchors", "schedule", "unscheduled"}
ITEM_KEYS = {
    "code",
    "label",
    "anchor",
    "day",
    "window_before",
    "window_after",
    "forms",
    "questionnaires",
    "repeat",
}
REPEAT_KEYS = {"every", "count", "number_from", "number_step"}
MAX_REPEAT = 100


def _whole(value: object, *, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _unknown_keys(where: str, mapping: dict, allowed: set[str]) -> list[str]:
    unknown = sorted(str(key) for key in set(mapping) - allowed)
    return [f"{where}: unknown key(s) {', '.join(unknown)}"] if unknown else []


def _collected_errors(where: str, value: object, *, kind: str) -> list[str]:
    """`forms` and `questionnaires`: lists of distinct codes that exist."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        return [f"{where}: a list of codes"]
    errors = [f"{where}: {code!r} is listed twice" for code in sorted(set(value)) if value.count(code) > 1]
    if kind == "forms":
        errors += [f"{where}: no CRF form {code!r}" for code in value if form_definition(code) is None]
    else:
        errors += [
            f"{where}: no questionnaire {code!r} (choose from {', '.join(Instrument.values)})"
            for code in value
            if code not in Instrument.values
        ]
    return errors


def _anchor_errors(anchors: object, protocol_forms: list) -> list[str]:
    if not isinstance(anchors, dict) or not anchors:
        return [
            "visits.anchors: name at least one anchor date, "
            "e.g. procedure: {form: procedure, field: procedure_date}"
        ]
    errors = []
    for name, spec in anchors.items():
        where = f"visits.anchors.{name}"
        if not isinstance(name, str) or not ANCHOR_NAME.match(name):
            errors.append(f"{where}: an anchor name matches {ANCHOR_NAME.pattern}")
        if not isinstance(spec, dict):
            errors.append(f"{where}: {{participant: enrollment_date}} or {{form: F, field: X}}")
        elif set(spec) == {"participant"}:
            if spec["participant"] not in PARTICIPANT_DATES:
                errors.append(f"{where}: the participant's date is one of {', '.join(PARTICIPANT_DATES)}")
        elif set(spec) == {"form", "field"}:
            form = form_definition(spec["form"]) if isinstance(spec["form"], str) else None
            field = form.field(spec["field"]) if form and isinstance(spec["field"], str) else None
            if form is None:
                errors.append(f"{where}: no CRF form {spec['form']!r}")
            elif spec["form"] not in protocol_forms:
                errors.append(f"{where}: form {spec['form']!r} is not among the protocol's forms")
            if form is not None and (field is None or field.type != "date"):
                errors.append(f"{where}: {spec['form']}.{spec['field']} is not a top-level date field")
        else:
            errors.append(f"{where}: {{participant: enrollment_date}} or {{form: F, field: X}}")
    return errors


def _repeat_errors(where: str, item: dict) -> list[str]:
    """A repeating item numbers its occurrences: its code and each label must say where, with {n}."""
    repeat = item.get("repeat")
    label = item.get("label") if isinstance(item.get("label"), dict) else {}
    numbered = [("code", item.get("code"))] + [
        (f"label {language}", text) for language, text in label.items()
    ]
    if repeat is None:
        return [
            f"{where}: {{n}} in the {part} needs `repeat`" for part, text in numbered if "{n}" in str(text)
        ]
    if not isinstance(repeat, dict):
        return [f"{where} repeat: {{every: days, count: visits}}"]
    errors = _unknown_keys(f"{where} repeat", repeat, REPEAT_KEYS)
    if not _whole(repeat.get("every"), minimum=1):
        errors.append(f"{where} repeat: every must be a whole number of days, at least 1")
    if not _whole(repeat.get("count"), minimum=2) or repeat["count"] > MAX_REPEAT:
        errors.append(f"{where} repeat: count must be a whole number from 2 to {MAX_REPEAT}")
    if not _whole(repeat.get("number_from", 1), minimum=0):
        errors.append(f"{where} repeat: number_from must be a whole number, 0 or more")
    if not _whole(repeat.get("number_step", 1), minimum=1):
        errors.append(f"{where} repeat: number_step must be a whole number, at least 1")
    errors += [
        f"{where}: a repeating item's {part} must contain {{n}}"
        for part, text in numbered
        if "{n}" not in str(text)
    ]
    return errors


def _item_errors(where: str, item: dict, anchors: dict) -> list[str]:
    errors = _unknown_keys(where, item, ITEM_KEYS)
    errors += [
        f"{where}: missing {key}"
        for key in sorted(ITEM_KEYS - {"forms", "questionnaires", "repeat"})
        if key not in item
    ]
    code = item.get("code")
    if "code" in item and not isinstance(code, str):
        errors.append(f"{where}: write the code as a string, e.g. 'M12' (got {code!r})")
    if "label" in item:
        errors += text_errors(f"{where} label", item["label"])
    if "anchor" in item and (not isinstance(item["anchor"], str) or item["anchor"] not in anchors):
        errors.append(f"{where}: anchor {item['anchor']!r} is not one of visits.anchors")
    for key in ("day", "window_before", "window_after"):
        if key in item and not _whole(item[key], minimum=0):
            errors.append(f"{where}: {key} must be a whole number of days, 0 or more")
    day, before = item.get("day"), item.get("window_before")
    if _whole(day, minimum=0) and _whole(before, minimum=0) and before > day:
        errors.append(f"{where}: the window opens before the anchor date (window_before > day)")
    for key in ("forms", "questionnaires"):
        if key in item:
            errors += _collected_errors(f"{where} {key}", item[key], kind=key)
    errors += _repeat_errors(where, item)
    return errors


def visits_errors(visits: object, *, protocol_forms: list) -> list[str]:
    """Every problem of a `visits:` section (trial/protocols/FORMAT.md), each naming where it is."""
    if not isinstance(visits, dict):
        return ["visits: a mapping with anchors, schedule and (optionally) unscheduled"]
    errors = _unknown_keys("visits", visits, VISITS_KEYS)
    anchors = visits.get("anchors")
    errors += _anchor_errors(anchors, protocol_forms)
    anchors = anchors if isinstance(anchors, dict) else {}
    schedule = visits.get("schedule")
    if not isinstance(schedule, list) or not schedule:
        errors.append("visits.schedule: list at least one visit")
        schedule = []
    seen: dict[str, str] = {}
    for i, item in enumerate(schedule):
        where = f"visits.schedule[{i}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: a mapping with code, label, anchor, day, window_before, window_after")
            continue
        if isinstance(item.get("code"), str):
            where = f"{where} ({item['code']})"
        item_errors = _item_errors(where, item, anchors)
        errors += item_errors
        if item_errors:
            continue  # its codes cannot be expanded reliably
        for code, _label, _day in occurrences(item):
            if not VISIT_CODE.match(code):
                errors.append(f"{where}: visit code {code!r} does not match {VISIT_CODE.pattern}")
            elif UNSCHEDULED_CODE.match(code):
                errors.append(f"{where}: visit code {code!r} is kept for unscheduled visits (U1, U2...)")
            elif code in seen:
                errors.append(f"{where}: visit code {code!r} is also given by {seen[code]}")
            seen.setdefault(code, where)
    unscheduled = visits.get("unscheduled", {})
    if not isinstance(unscheduled, dict):
        errors.append("visits.unscheduled: a mapping with forms and questionnaires")
    else:
        errors += _unknown_keys("visits.unscheduled", unscheduled, {"label", "forms", "questionnaires"})
        if "label" in unscheduled:
            errors += text_errors("visits.unscheduled label", unscheduled["label"])
        for key in ("forms", "questionnaires"):
            if key in unscheduled:
                errors += _collected_errors(f"visits.unscheduled {key}", unscheduled[key], kind=key)
    return errors


def protocol_sections() -> dict:
    """The protocol-file sections follow-up reads, for trial.hooks.protocol_sections."""
    return {"visits": _visits_section}


def _visits_section(value, *, protocol: dict) -> list[str]:
    forms = protocol.get("forms")
    return visits_errors(value, protocol_forms=forms if isinstance(forms, list) else [])
