"""Paths that name one value of a form's data: "operative_time", "levels[L1].cement_volume"."""

import functools

from .definitions import FormDef, all_fields, form_definitions


def group_keys(form: FormDef | None) -> dict[str, str]:
    return {group.code: group.key for group in form.groups} if form else {}


def flatten(data, keys: dict[str, str]) -> dict[str, object]:
    """{"levels": [{"level": "L1", "volume": 4}]} -> {"levels[L1].level": "L1", ...}: one path a value."""
    flat: dict[str, object] = {}
    for key, value in (data or {}).items():
        if isinstance(value, list) and value and all(isinstance(row, dict) for row in value):
            for index, row in enumerate(value):
                label = row.get(keys.get(key, ""), f"#{index + 1}")
                for code, item in row.items():
                    flat[f"{key}[{label}].{code}"] = item
        else:
            flat[key] = value
    return flat


@functools.cache
def form_dependents() -> dict[str, frozenset[str]]:
    """For each form, the forms that read it: in their checks (form:<F>.x references, in_values of F) or in
    their derived values (source: <F>.group.field)."""
    readers: dict[str, set[str]] = {}
    for form in form_definitions().values():
        for _group, spec in all_fields(form):
            if spec.source_form and spec.source_form != form.code:
                readers.setdefault(spec.source_form, set()).add(form.code)
        for check in form.checks:
            arg = check.rule[check.rule_name]
            source = None
            if isinstance(arg, str) and arg.startswith("form:"):
                source = arg.removeprefix("form:").split(".", 1)[0]
            elif check.rule_name == "in_values":
                source = arg.get("form")
            if source and source != form.code:
                readers.setdefault(source, set()).add(form.code)
    return {code: frozenset(codes) for code, codes in readers.items()}
