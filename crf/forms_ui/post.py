"""POST -> data: the submitted inputs in the shape crf_save takes, and stored data back in that shape."""

import decimal
import re
from collections.abc import Mapping

from ..engine.definitions import FieldDef, FormDef
from .labels import row_prefix

MAX_ROW_INDEX_DIGITS = 3  # row indexes 0..999: a forged POST cannot make the parser loop for long
UID_SUFFIX = "--uid"  # an exam field's pasted StudyInstanceUID: "<code>--uid" (no field code has "--")


def _posted(spec: FieldDef, post: Mapping, name: str):
    if spec.type == "multichoice":
        return [value for value in post.getlist(name) if value != ""]
    if spec.type == "exam":  # a pasted UID is sent for the service to match (crf/services/exams.py)
        uid = post.get(name + UID_SUFFIX, "").strip()
        picked = post.get(name, "")
        return ({"study_uid": uid} | ({"id": picked} if picked else {})) if uid else picked
    return post.get(name, "")


def is_empty(value) -> bool:
    return value in ("", None, [])


def parse_entry(form: FormDef, post) -> dict:
    """The submitted values in the shape crf_save takes: {code: value}, {group: [row, ...]}.

    Values stay as typed (strings, lists of codes for multichoice; empty stays empty): the engine converts and
    judges them. Rows whose inputs are all empty are left out, so the blank rows drawn for browsers without
    JavaScript add nothing.
    """
    data: dict = {spec.code: _posted(spec, post, spec.code) for spec in form.fields if not spec.derived}
    for group in form.groups:
        pattern = re.compile(rf"^{re.escape(group.code)}-(\d{{1,{MAX_ROW_INDEX_DIGITS}}})-")
        indexes = sorted({int(m.group(1)) for key in post for m in [pattern.match(key)] if m})
        rows = []
        for index in indexes:
            prefix = row_prefix(group.code, index)
            row = {
                spec.code: _posted(spec, post, prefix + spec.code)
                for spec in group.fields
                if not spec.derived
            }
            if not all(is_empty(value) for value in row.values()):
                rows.append(row)
        data[group.code] = rows
    return data


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            format(decimal.Decimal(str(value)).normalize(), "f") if value != int(value) else str(int(value))
        )
    return str(value)


def raw_value(spec: FieldDef, value):
    if spec.type == "multichoice":
        return [str(v) for v in value] if isinstance(value, list) else ([] if value is None else [str(value)])
    return as_text(value)


def values_from_data(form: FormDef, data: Mapping | None) -> dict:
    """Stored (clean) data in the shape parse_entry returns, for drawing the inputs."""
    data = data or {}
    values: dict = {spec.code: raw_value(spec, data.get(spec.code)) for spec in form.fields}
    for group in form.groups:
        values[group.code] = [
            {spec.code: raw_value(spec, row.get(spec.code)) for spec in group.fields}
            for row in data.get(group.code) or []
            if isinstance(row, Mapping)
        ]
    return values


def parse_version(raw: str | None) -> int | None:
    """The record version the page was drawn from (0: not started); None when absent or garbled."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None
