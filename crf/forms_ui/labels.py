"""What the pages call things: a form's status, the inputs of a group's rows, and engine paths as anchors
and labels ("levels[L1].cement_volume" -> f-levels-L1-cement_volume, "Cement volume (L1)")."""

import re

from django.utils.translation import gettext_lazy

from trial.i18n import localized

from ..engine.definitions import FieldDef, FormDef
from ..models import FormStatus

NOT_STARTED = "not_started"

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


def path_label(form: FormDef | None, path: str) -> str:
    """The label of the field an engine path names, with its row: "Cement volume (L1)"."""
    if form is None:
        return path
    _group, row, _code = split_path(path)
    spec = spec_of(form, path)
    if spec is None:
        group = form.group(path)
        return localized(group.label) if group else path
    return f"{localized(spec.label)} ({row})" if row else localized(spec.label)
