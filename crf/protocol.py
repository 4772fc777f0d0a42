"""The `forms:` section of a protocol file: the CRFs a study uses, checked against crf/forms/ and registered
with trial's protocol loader (trial.hooks.protocol_sections)."""

from .engine.definitions import form_definition


def forms_errors(value: object, *, protocol: dict) -> list[str]:
    """`forms`: a list of distinct codes of forms defined in crf/forms/."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        return ["forms: a list of form codes"]
    errors = [f"forms: {code!r} is listed twice" for code in sorted(set(value)) if value.count(code) > 1]
    return errors + [f"forms: no CRF form {code!r}" for code in value if form_definition(code) is None]


def protocol_sections() -> dict:
    """The protocol-file sections crf reads, for trial.hooks.protocol_sections."""
    return {"forms": forms_errors}
