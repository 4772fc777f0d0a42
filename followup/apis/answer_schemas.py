"""The JSON Schema of each instrument's answers, drawn from its definition (followup/instruments/), and the
answers fields of the API's inputs that use them.

What the scorers accept (odi_errors, vas_errors) said as a schema: where the instrument is known from the
URL (scoring one instrument) the body's schema is that instrument's; where it is not (a visit's
questionnaire, a patient link), `answers` is one of them, and answers of the other instrument are a 400
naming `answers` (or the item at fault).
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..instruments.registry import ODI, VAS

_STATEMENT = {"type": "integer", "minimum": 0, "maximum": ODI.statements_per_section - 1}

ODI_ANSWERS = {
    "type": "array",
    "description": "ODI: one item per section, in order: the statement ticked (0-5), the statements ticked "
    "when several were (the highest counts), or null when none was.",
    "minItems": len(ODI.sections),
    "maxItems": len(ODI.sections),
    "items": {
        "nullable": True,
        "anyOf": [
            _STATEMENT,
            {"type": "array", "minItems": 1, "maxItems": ODI.statements_per_section, "items": _STATEMENT},
        ],
    },
}

VAS_ANSWERS = {
    "type": "object",
    "description": "VAS: the pain mark in whole millimetres from 0 to 100, null while not marked.",
    "properties": {
        "pain": {"type": "integer", "minimum": VAS.minimum, "maximum": VAS.maximum, "nullable": True},
    },
    "additionalProperties": False,
}

ANSWERS_BY_INSTRUMENT = {ODI.code: ODI_ANSWERS, VAS.code: VAS_ANSWERS}


@extend_schema_field({"oneOf": [ODI_ANSWERS, VAS_ANSWERS]})
class AnyAnswersField(serializers.JSONField):
    """Answers to the instrument of the URL or link: a 400 naming `answers` if they are the other one's."""


@extend_schema_field(ODI_ANSWERS)
class OdiAnswersField(serializers.JSONField):
    pass


@extend_schema_field(VAS_ANSWERS)
class VasAnswersField(serializers.JSONField):
    pass
