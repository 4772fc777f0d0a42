"""The `forms:` section of a protocol file: the CRFs a study uses, declared here, where forms are understood,
and registered with trial's protocol schema (trial.hooks.protocol_sections)."""

from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from trial.schema import distinct, says, shaped

from .engine.definitions import form_definition


def _defined(code: str) -> str:
    if form_definition(code) is None:
        raise PydanticCustomError("form", "{message}", {"message": f"no CRF form {code!r}"})
    return code


# The code of a form defined in crf/forms/ (also what a visit of followup's `visits:` section lists).
FormCode = Annotated[str, says("must be the code of a form, e.g. 'procedure'"), AfterValidator(_defined)]
# The forms a protocol or a visit collects, each once.
FormCodes = Annotated[list[FormCode], distinct, shaped("must be a list of form codes")]


def protocol_sections() -> dict:
    """The protocol-file sections crf reads, for trial.hooks.protocol_sections."""
    return {"forms": FormCodes}
