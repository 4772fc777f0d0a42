"""Texts the machine writes (edit checks, automatic queries) as data: a message code with its parameters,
shown in the reader's language.

A stored code outlives a change of language: a query raised while an English user saved the form reads in
Chinese to a Chinese reader, in its thread and in the API. Codes and their parameters:

- "check": a check declared in a form file, {"form": "procedure", "check": "PROCEDURE_BEFORE_CONSENT"};
  the text is the check's `message` in crf/forms/<form>.yaml.
- "soft_range": a value outside a field's expected range, {"value": 12.0, "unit": "mL", "low": 1,
  "high": 10}; an open bound is null.
- "resolved_by_data": an automatic query closed because the value that raised it changed; no parameters.

A person's words (answers, closes, reopens, a monitor's question) have no code: they are shown as typed.
"""

import contextlib
from collections.abc import Mapping

from django.utils import translation
from django.utils.translation import gettext as _

from trial.i18n import localized

from .definitions import form_definition

CHECK = "check"
SOFT_RANGE = "soft_range"
RESOLVED_BY_DATA = "resolved_by_data"
CODES = (CHECK, SOFT_RANGE, RESOLVED_BY_DATA)


def soft_range_params(*, value, unit: str, low, high) -> dict:
    """The parameters of a soft-range message: JSON values, to be stored and sent as they are."""
    return {"value": value, "unit": unit, "low": low, "high": high}


def check_params(*, form: str, check: str) -> dict:
    return {"form": form, "check": check}


def _bound(bound) -> str:
    return "…" if bound is None else str(bound)


def _render(code: str, params: Mapping, language: str | None) -> str:
    if code == SOFT_RANGE:
        return _("%(value)s %(unit)s is outside the expected %(low)s to %(high)s: please confirm.") % {
            "value": params["value"],
            "unit": params.get("unit") or "",
            "low": _bound(params.get("low")),
            "high": _bound(params.get("high")),
        }
    if code == RESOLVED_BY_DATA:
        return _("Resolved by a change of the data.")
    if code == CHECK:
        form = form_definition(str(params.get("form", "")))
        check = next((c for c in form.checks if c.code == params.get("check")), None) if form else None
        return localized(check.message, language) if check else ""
    return ""


def message_text(
    code: str, params: Mapping | None, *, fallback: str = "", language: str | None = None
) -> str:
    """The message in `language` (default: the active one); `fallback` (the stored text) when the code is
    empty (a person's words), unknown, or names a check that no form declares any more."""
    if not code:
        return fallback
    switch = translation.override(language) if language else contextlib.nullcontext()
    try:
        with switch:
            return _render(code, params or {}, language) or fallback
    except (KeyError, TypeError):  # parameters that do not fit the code: say what was stored
        return fallback
