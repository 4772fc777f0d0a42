"""Request bodies and headers as strict as the server (trial/apis/schema.py, request side; StrictInput and
CodeField in trial/apis/serializers.py; trial/apis/headers.py): each rule is checked on both sides, the
server refusing the request and /api/schema/ saying so."""

import re

import pytest

from ..conftest import client_for

SCREENINGS = "/api/v1/screenings/"
# DICOM files uploaded as files (trial/apis/imaging.py): a screening's exams, a participant's follow-up exams.
# The file uploads: DICOM exams, a vertebra's heatmap image.
EXAM_UPLOADS = {
    "/api/v1/screenings/{id}/exams/",
    "/api/v1/participants/{study_id}/exams/",
    "/api/v1/model-outputs/{id}/heatmap/",
}


@pytest.fixture
def openapi(coordinator):
    answer = client_for(coordinator).get("/api/schema/?format=json")
    assert answer.status_code == 200
    return answer.json()


def body_schema(openapi, method: str, path: str) -> dict:
    content = openapi["paths"][path][method]["requestBody"]["content"]
    schema = content["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    return openapi["components"]["schemas"][name]


def header(openapi, method: str, path: str, name: str) -> dict:
    parameters = openapi["paths"][path][method]["parameters"]
    return next(p for p in parameters if p["in"] == "header" and p["name"] == name)


def enum_of(openapi, prop: dict) -> list:
    """An enum, inline or (as drf-spectacular names them) a component under allOf."""
    if "enum" in prop:
        return prop["enum"]
    return openapi["components"]["schemas"][prop["allOf"][0]["$ref"].rsplit("/", 1)[-1]]["enum"]


def new_screening(**changes) -> dict:
    body = {"study": "NCT06379243", "site": "07", "screening_date": "2026-01-05", "age": 72, "sex": "female"}
    return body | changes


def test_a_body_is_json_only(api, openapi):
    """Form and multipart bodies carry every value as text ("0" read as false): the API reads JSON alone."""
    sent = api.post(SCREENINGS, "study=NCT06379243&site=07", content_type="application/x-www-form-urlencoded")
    assert sent.status_code == 415
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                # The exceptions: files uploaded as files (DICOM exams, heatmap images), never form values.
                media = {"multipart/form-data"} if path in EXAM_UPLOADS else {"application/json"}
                assert set(operation["requestBody"]["content"]) == media, (method, path)


def test_unknown_fields_are_refused_and_the_schema_allows_none(api, openapi):
    sent = api.post(SCREENINGS, new_screening(answer={"I1": True}), format="json")
    assert sent.status_code == 400 and sent.json()["answer"] == ["Unknown field."]
    assert body_schema(openapi, "post", SCREENINGS)["additionalProperties"] is False
    # Every input of a write says so; an output never does (its texts and keys are the server's).
    assert body_schema(openapi, "post", "/api/v1/queries/")["additionalProperties"] is False
    assert "additionalProperties" not in openapi["components"]["schemas"]["ScreeningOut"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("age", "72"), ("age", 72.5), ("age", True), ("notes", 7), ("sex", 1), ("fracture_levels", [12])],
)
def test_a_value_of_the_wrong_json_type_is_refused_not_coerced(api, openapi, field, value):
    sent = api.post(SCREENINGS, new_screening(**{field: value}), format="json")
    assert sent.status_code == 400 and field in sent.json()
    properties = body_schema(openapi, "post", SCREENINGS)["properties"]
    assert {"age": "integer", "notes": "string", "fracture_levels": "array"}.get(field, "string") == (
        properties[field].get("type") or "string"
    )


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_a_text_that_may_not_be_blank_says_so(api, openapi, blank):
    sent = api.post(SCREENINGS, new_screening(site=blank), format="json")
    assert sent.status_code == 400 and "site" in sent.json()
    site = body_schema(openapi, "post", SCREENINGS)["properties"]["site"]
    assert site["minLength"] == 1 and not re.search(site["pattern"], blank)
    # A text that may be blank has neither.
    notes = body_schema(openapi, "post", SCREENINGS)["properties"]["notes"]
    assert "minLength" not in notes and "pattern" not in notes


def test_study_and_site_list_the_codes_loaded_and_a_wrong_one_is_named(api, openapi, study, site):
    properties = body_schema(openapi, "post", SCREENINGS)["properties"]
    assert study.code in enum_of(openapi, properties["study"])
    assert site.code in enum_of(openapi, properties["site"])
    assert "an active site of the study" in properties["site"]["description"]
    sent = api.post(SCREENINGS, new_screening(study="NCT00000000"), format="json")
    assert sent.status_code == 400 and "study" in sent.json()


def test_a_correction_names_at_least_one_field(api, openapi, make_screening):
    screening = make_screening()
    url = f"{SCREENINGS}{screening.pk}/"
    sent = api.patch(url, {}, format="json", HTTP_X_CHANGE_REASON="typo")
    assert sent.status_code == 400 and "non_field_errors" in sent.json()
    assert body_schema(openapi, "patch", "/api/v1/screenings/{id}/")["minProperties"] == 1
    assert api.patch(url, {"age": 73}, format="json", HTTP_X_CHANGE_REASON="typo").status_code == 200


def test_a_required_reason_header_may_not_be_blank(api, openapi, make_screening):
    screening = make_screening()
    reason = header(openapi, "patch", "/api/v1/screenings/{id}/", "X-Change-Reason")
    assert reason["required"] is True
    assert reason["schema"]["minLength"] == 1 and not re.search(reason["schema"]["pattern"], "   ")
    for blank in ("", "   "):
        url = f"{SCREENINGS}{screening.pk}/"
        sent = api.patch(url, {"age": 73}, format="json", HTTP_X_CHANGE_REASON=blank)
        assert sent.status_code == 400 and sent.json()["code"] == "reason_required"


def test_an_optional_reason_header_may_be_blank(openapi):
    """A draft form is saved without a reason: a blank one is none, so the schema allows it."""
    reason = header(openapi, "put", "/api/v1/participants/{study_id}/forms/{form_code}/", "X-Change-Reason")
    assert reason.get("required", False) is False
    assert "minLength" not in reason["schema"] and "pattern" not in reason["schema"]
    assert "completed" in reason["description"]


def test_if_match_has_the_etag_pattern_the_server_reads(openapi):
    from trial.apis.headers import ETAG

    for path in (
        "/api/v1/participants/{study_id}/forms/{form_code}/",
        "/api/v1/participants/{study_id}/visits/{visit_code}/questionnaires/{instrument}/",
        "/api/v1/patient/{token}/",
    ):
        if_match = header(openapi, "put", path, "If-Match")
        assert if_match.get("required", False) is False and if_match["schema"]["pattern"] == ETAG.pattern
        assert "409" in if_match["description"]
    pattern = re.compile(if_match["schema"]["pattern"])
    assert all(pattern.search(good) for good in ('"3"', "3", 'W/"12"'))
    assert not any(pattern.search(bad) for bad in ("", "abc", "*", '"1234567890"', '"3";'))


def test_a_forms_data_is_an_object(openapi):
    """A form's values are an object keyed by field code, in and out: anything else is refused by the server
    (400 naming `data`, tests/crf/test_api_forms.py) and by the schema."""
    path = "/api/v1/participants/{study_id}/forms/{form_code}/"
    assert body_schema(openapi, "put", path)["properties"]["data"]["type"] == "object"
    assert openapi["components"]["schemas"]["FormOut"]["properties"]["data"]["type"] == "object"


def alternates_outside_a_group(pattern: str) -> bool:
    """Whether `pattern` has a `|` outside any group (escapes and character classes skipped): `^a|b$` means
    "starts with a, or ends with b", never "a or b", and matches "ab" or "xb" alike."""
    depth, in_class, escaped = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            return True
    return False


def patterns(node, where: str = "") -> list[tuple[str, str]]:
    """Every (where, pattern) of a JSON Schema keyword `pattern` in the document (a property named
    "pattern" is an object, not one)."""
    if isinstance(node, dict):
        found = [(where, node["pattern"])] if isinstance(node.get("pattern"), str) else []
        return found + [hit for key, value in node.items() for hit in patterns(value, f"{where}/{key}")]
    if isinstance(node, list):
        return [hit for k, value in enumerate(node) for hit in patterns(value, f"{where}/{k}")]
    return []


def test_the_alternation_check_reads_groups_classes_and_escapes():
    assert alternates_outside_a_group("^complete|verify|lock|unlock$")
    assert alternates_outside_a_group("a(b)|c")
    for grouped in ("^(complete|verify)$", "^(?:a|b)$", "^[|]$", r"^a\|b$", r"^[\]|]$", r"\S"):
        assert not alternates_outside_a_group(grouped), grouped


def test_no_pattern_of_the_served_schema_alternates_outside_a_group(openapi):
    """drf-spectacular once turned the form step's URL alternation into "^complete|verify|lock|unlock$",
    which also takes "completed" or "unverify" (the step is an enum now): no pattern anywhere in the served
    schema, parameters, bodies or headers, may have such a `|`."""
    found = patterns(openapi)
    assert len(found) > 50, found  # the walk reaches the parameters, bodies and headers
    assert [(where, p) for where, p in found if alternates_outside_a_group(p)] == []
    step = next(
        p
        for p in openapi["paths"]["/api/v1/participants/{study_id}/forms/{form_code}/{step}/"]["post"][
            "parameters"
        ]
        if p["name"] == "step"
    )
    assert sorted(step["schema"]["enum"]) == ["complete", "lock", "unlock", "verify"]
    assert "pattern" not in step["schema"]
