"""The form codes the API's schema lists: those of the shipped protocol files (trial/apis/codes.py), through
trial.hooks.api_path_codes and crf.apis.serializers.QueryRaiseIn.form. A participant's own protocol version
decides in the end: a form it does not use, or one its visit does not collect, is a 400 naming `form`."""

from trial.apis.codes import shipped_protocols

from ..engine.definitions import form_definitions


def _definitions() -> tuple[dict, ...]:
    return shipped_protocols()


def grid_form_codes() -> list[str]:
    """Forms a protocol lists for the participant's grid (…/forms/{form_code}/)."""
    return _known(code for definition in _definitions() for code in definition.get("forms") or [])


def visit_form_codes() -> list[str]:
    """Forms a protocol's visits collect (…/visits/{visit_code}/forms/{form_code}/)."""
    codes = []
    for definition in _definitions():
        visits = definition.get("visits") or {}
        for visit in [*(visits.get("schedule") or []), visits.get("unscheduled") or {}]:
            codes.extend(visit.get("forms") or [])
    return _known(codes)


def all_form_codes() -> list[str]:
    return sorted({*grid_form_codes(), *visit_form_codes()})


def _known(codes) -> list[str]:
    return sorted(set(codes) & set(form_definitions()))


def api_path_codes(*, path: str) -> dict[str, list[str]]:
    """The form_code of the form URLs (trial.hooks.api_path_codes)."""
    if "{form_code}" not in path:
        return {}
    return {"form_code": visit_form_codes() if "{visit_code}" in path else grid_form_codes()}
