"""The API schema documents every answer, errors included: one AutoSchema adds to each operation the 4xx
answers it can give, read from what the operation declares, and one component describes their body.

Which errors an operation can give follows from its shape, not from a list per view:
- 401 and 403: it authenticates (any security requirement); 403 also for the role or site.
- 400: it reads input: a body, query parameters, headers, or path values the views look up.
- 404: a path value names an object (outside the user's scope it is not found either), a paginated list
  (a page past the end), or a body that names one (a participant by study ID).
- 409: a write (the record's state refuses it, or the ETag sent in If-Match is stale).
- 415: a body sent in a media type the endpoint does not parse.
- 428: a write that takes If-Match (a form or questionnaire that exists must name the version it read).
- 429: the view is throttled.
A view that declares an answer itself (@extend_schema responses) keeps its own.

Request bodies are as strict as the server (`request_body_strictness`, below): an input that refuses
unknown keys (StrictInput) says additionalProperties: false, and a text the server refuses blank says
minLength 1 and, where the server strips it first, a pattern that wants one character that is not a space.
"""

import inspect

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

# In English, like the schema's other descriptions (help texts, parameters): it is read by programmers.
# The shape trial.errors.api_exception_handler and DRF's handler give every error: a message and a code
# (both optional: a validation error has only field messages), and the messages per field (a list of
# texts; an object for a nested field or a list's items).
ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: `detail` (a message), `code`, and the messages of each field that is wrong.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {
        "description": "A field's messages: a list, or an object for a nested field or a list's items.",
        "oneOf": [{"type": "array", "items": {}}, {"type": "object"}, {"type": "string"}],
    },
}

DESCRIPTIONS = {
    400: "The input is not valid: field messages say what to change.",
    401: "Not signed in: send a token or a session.",
    403: "The user's role or site does not allow this.",
    404: "No such object, or not in the user's scope.",
    409: "The record's state refuses this, or the version sent in If-Match is stale.",
    415: "The body's media type is not accepted.",
    428: "Send If-Match with the version you read (the ETag).",
    429: "Too many requests: wait and try again.",
}

# The version of a form, questionnaire or patient's answers, quoted (RFC 9110): send it back in If-Match.
ETAG_HEADER = {
    "description": 'The version of the record read or written, e.g. "3": send it back in If-Match.',
    "required": True,
    "schema": {"type": "string", "pattern": r'^"\d+"$'},
}

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, with the error answers each operation can give (module docstring)."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        self.document_answers(operation)
        return operation

    def _get_request_body(self, direction="request"):
        """drf-spectacular leaves a PATCH body optional (partial); one that must name a field
        (StrictInput.min_fields: a correction) is required, as the server refuses none."""
        body = super()._get_request_body(direction)
        if body and getattr(self.get_request_serializer(), "min_fields", 0):
            body["required"] = True
        return body

    def document_answers(self, operation: dict) -> None:
        """The response side: the error answers with their body, and the ETag header where it is sent."""
        responses = operation.setdefault("responses", {})
        for code in sorted(self.error_codes(operation)):
            responses.setdefault(str(code), self._error_response(code))
        for code, response in responses.items():
            # A view's own error answer (a 409 with only a description) has the error body too.
            if code.startswith("4") and not response.get("content"):
                response["content"] = self._error_response(int(code))["content"]
        self.etag_headers(responses)

    def etag_headers(self, responses: dict) -> None:
        """`ETag` on the 2xx answers of a view that sends it (`etag_methods`: the record's version)."""
        if self.method not in getattr(self.view, "etag_methods", ()):
            return
        for code, response in responses.items():
            if code.startswith("2"):
                response.setdefault("headers", {})["ETag"] = ETAG_HEADER

    def _resolve_path_parameters(self, variables):
        return path_parameter_codes(self.path, super()._resolve_path_parameters(variables))

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        return request_body_strictness(serializer, schema)

    def error_codes(self, operation: dict) -> set[int]:
        """The 4xx answers this operation can give, from its security, parameters, body and method."""
        parameters = operation.get("parameters", [])
        where = {p.get("in") for p in parameters}
        names = {p.get("name") for p in parameters}
        has_body = "requestBody" in operation
        codes = set()
        if operation.get("security"):
            # It authenticates: a bad token is a 401 and a session's write without its CSRF token a 403,
            # even where anyone may call it (the token endpoint).
            codes |= {401, 403}
        if has_body or where & {"query", "header", "path"}:
            codes.add(400)
        if "path" in where or "page" in names or has_body:
            codes.add(404)
        if self.method in WRITES:
            codes.add(409)
        if has_body:
            codes.add(415)
        if "If-Match" in names and self.method in WRITES:
            codes.add(428)
        if getattr(self.view, "throttle_classes", None):
            codes.add(429)
        return codes

    def _error_response(self, code: int) -> dict:
        """The answer `code` with the shared error body (one component, registered once)."""
        component = ResolvedComponent(
            name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA
        )
        self.registry.register_on_missing(component)
        return {
            "description": DESCRIPTIONS.get(code, ""),
            "content": {"application/json": {"schema": component.ref}},
        }


# --- The request side: bodies as strict as the serializers that read them (issue 16) -----------------------

# At least one character that is not white space: DRF strips texts before it refuses a blank one, so "  " is
# refused like "". Unanchored, as JSON Schema's patterns are.
NOT_BLANK = r"\S"


def request_body_strictness(serializer, schema: dict) -> dict:
    """The object `schema` drf-spectacular made of `serializer`, with what the server refuses said too.

    Only inputs (trial.apis.serializers.StrictInput) are touched: an output's texts may be empty.
    - additionalProperties: false, as StrictInput answers 400 naming each key it does not declare;
    - minProperties where it wants at least so many keys (a correction: one);
    - a text field that refuses blanks: minLength 1, and the NOT_BLANK pattern where it strips spaces;
    - a code of the loaded protocols (CodeField): the codes loaded, as an enum.
    """
    from .serializers import CodeField, StrictInput  # here: the schema class is imported from settings, early

    if not isinstance(serializer, StrictInput) or schema.get("type") != "object":
        return schema
    schema["additionalProperties"] = False
    if serializer.min_fields:
        schema["minProperties"] = serializer.min_fields
    if schema.get("description") == inspect.getdoc(StrictInput):
        del schema["description"]  # inherited: about the server, not this input
    properties = schema.get("properties", {})
    for name, field in serializer.fields.items():
        if name in properties and "$ref" not in properties[name]:
            non_blank_text(field, properties[name])
            if isinstance(field, CodeField):
                properties[name]["enum"] = protocol_codes(field)
    return schema


def protocol_codes(field) -> list[str]:
    """The codes a CodeField takes, as loaded now ("" too where it may be blank)."""
    codes = sorted(set(field.codes()))
    return [*codes, ""] if field.allow_blank else codes


def path_parameter_codes(path: str, parameters: list[dict]) -> list[dict]:
    """The path parameters of the operation at `path`, with the codes each takes (trial.hooks.api_path_codes)
    as its enum."""
    from ..hooks import api_path_codes

    codes = {name: values for found in api_path_codes(path=path) for name, values in found.items()}
    for parameter in parameters:
        if parameter["name"] in codes:
            parameter["schema"] = {"type": "string", "enum": sorted(set(codes[parameter["name"]]))}
    return parameters


def non_blank_text(field, schema: dict) -> None:
    """minLength 1 (and NOT_BLANK if stripped) on the schema of a text field that refuses blanks, and on the
    items of a list of such texts."""
    if isinstance(field, serializers.ListField) and schema.get("type") == "array":
        non_blank_text(field.child, schema.setdefault("items", {}))
        return
    if (
        not isinstance(field, serializers.CharField)
        or isinstance(field, NON_TEXT_FIELDS)
        or field.allow_blank
    ):
        return
    schema["minLength"] = max(schema.get("minLength", 0), 1)
    if field.trim_whitespace and "pattern" not in schema and "format" not in schema:
        schema["pattern"] = NOT_BLANK


# CharField's subclasses with a format of their own (a date-time's or an e-mail's rules are stricter).
NON_TEXT_FIELDS = (
    serializers.EmailField,
    serializers.URLField,
    serializers.UUIDField,
    serializers.IPAddressField,
)


# The main flow as OpenAPI links (the response side: where an answer's values lead next), so that a generated
# client, a reader of the docs, and schemathesis' stateful phase (tests/test_api_fuzz.py) follow it:
# screen → enroll → save a form → complete it (If-Match from the save's ETag), reading each result back.
# (source method, source path, its status) -> {link name: (target method, target path, parameters)}.
SCREENING = "/api/v1/screenings/{id}/"
PARTICIPANT = "/api/v1/participants/{study_id}/"
FORM = PARTICIPANT + "forms/{form_code}/"
NEW_PARTICIPANT = {"study_id": "$response.body#/study_id"}
MAIN_FLOW_LINKS = {
    ("post", "/api/v1/screenings/", "201"): {
        "EnrollScreened": ("post", SCREENING + "enroll/", {"id": "$response.body#/id"}),
        "ReadScreening": ("get", SCREENING, {"id": "$response.body#/id"}),
    },
    ("post", SCREENING + "enroll/", "201"): {
        "SaveForm": ("put", FORM, NEW_PARTICIPANT),
        "ReadParticipant": ("get", PARTICIPANT, NEW_PARTICIPANT),
        "ReadFormGrid": ("get", PARTICIPANT + "forms/", NEW_PARTICIPANT),
    },
    ("put", FORM, "200"): {
        "CompleteForm": (
            "post",
            FORM + "{step}/",
            {
                "study_id": "$request.path.study_id",
                "form_code": "$request.path.form_code",
                "step": "complete",
                "header.If-Match": "$response.header.ETag",
            },
        ),
        "ReadForm": (
            "get",
            FORM,
            {"study_id": "$request.path.study_id", "form_code": "$request.path.form_code"},
        ),
    },
    ("post", FORM + "{step}/", "200"): {
        "ReadCompletedForm": (
            "get",
            FORM,
            {"study_id": "$request.path.study_id", "form_code": "$request.path.form_code"},
        ),
    },
}


def main_flow_links(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: MAIN_FLOW_LINKS added to the answers they start from, naming the
    target by its operationId as generated (tests/test_api_fuzz.py walks the links of the served schema)."""
    paths = result.get("paths", {})
    for (method, path, status), links in MAIN_FLOW_LINKS.items():
        source = paths.get(path, {}).get(method)
        if source is None or status not in source.get("responses", {}):
            continue  # a schema of part of the API (generated for a subset of the URLs)
        for name, (target_method, target_path, parameters) in links.items():
            target = paths.get(target_path, {}).get(target_method)
            if target is None:
                continue
            source["responses"][status].setdefault("links", {})[name] = {
                "operationId": target["operationId"],
                "parameters": parameters,
            }
    return result
