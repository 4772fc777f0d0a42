"""What the pages call things: a form's status, the inputs of a group's rows, and engine paths as anchors
and labels ("levels[L1].cement_volume" -> f-levels-L1-cement_volume, "Level L1 \u203a Cement volume")."""

import re

from django.utils.translation import gettext, gettext_lazy

from trial.i18n import localized

from ..engine.definitions import FieldDef, FormDef, GroupDef
from ..models import FormStatus

NOT_STARTED = "not_started"
SEPARATOR = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "  # between a row and its field

STATUS_LABELS = {
    NOT_STARTED: gettext_lazy("not started"),
    **dict(FormStatus.choices),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def row_prefix(group_code: str, index: int | str) -> str:
    return f"{group_code}-{index}-"


def anchor_of(path: str) -> str:
    """An HTML id for an engine path: levels[L1].cement_volume -> f-levels-L1-cement_volume."""
    return "f-" + re.sub(r"[^A-Za-z0-9_]+", "-", path).strip("-")


def split_path(path: str) -> tuple[str, str, str]:
    """(group, row label, code) of an engine path; group and label are empty at the top level."""
    match = re.fullmatch(r"([a-z][a-z0-9_]*)\[([^\]]*)\]\.([a-z][a-z0-9_]*)", path)
    if match:
        return match.group(1), match.group(2), match.group(3)
    return "", "", path


def spec_of(form: FormDef | None, path: str) -> FieldDef | None:
    if form is None:
        return None
    group_code, _row, code = split_path(path)
    group = form.group(group_code) if group_code else None
    return group.field(code) if group else (None if group_code else form.field(code))


def row_label(group: GroupDef, key: str) -> str:
    """A row named for a person: its key field's label and the key's label ("Level L1"), or, for a row whose
    key is not a valid value (an engine path names it "#2"), the group and the row's place ("Treated levels,
    row 2")."""
    if key.startswith("#"):
        return gettext("%(group)s, row %(number)s") % {"group": localized(group.label), "number": key[1:]}
    key_spec = group.field(group.key)
    if key_spec is None:
        return key
    choice = next((c for c in key_spec.choices if c.code == key), None)
    return f"{localized(key_spec.label)} {localized(choice.label) if choice else key}"


def path_label(form: FormDef | None, path: str) -> str:
    """What the pages call the value an engine path names, in the page's language: "Operative time" at the
    top level, the row and the field in a group's row ("Level L1 \u203a Cement volume", SEPARATOR between
    them), "Treated levels" for a whole group. A path that names nothing of the form stays as it is."""
    if form is None:
        return path
    group_code, row, code = split_path(path)
    if not group_code:
        spec = form.field(path)
        if spec is not None:
            return localized(spec.label)
        group = form.group(path)
        return localized(group.label) if group else path
    group = form.group(group_code)
    if group is None:
        return path
    spec = group.field(code)
    return f"{row_label(group, row)}{SEPARATOR}{localized(spec.label) if spec else code}"


def exam_label(exam) -> str:
    """An imaging exam as a person picks it: modality, study date, body parts, series (trial.ImagingExam)."""
    return gettext("%(modality)s of %(date)s, %(parts)s, %(count)s series") % {
        "modality": exam.modality,
        "date": exam.study_date.isoformat(),
        "parts": ", ".join(exam.body_parts) or "—",
        "count": exam.series_count,
    }
