"""The schema documents every answer (trial/apis/schema.py), and the answers the fuzzer found undocumented or
outside the schema now match it (tests/test_api_fuzz.py runs the whole API; these pin each fix)."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from trial.apis.schema import AutoSchema


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


def responses(openapi, method: str, path: str) -> dict:
    return openapi["paths"][path][method]["responses"]


def test_every_error_answer_has_a_json_body(openapi):
    """The shared error body, or the one a view declares for its own error (a link not issued, 409)."""
    error = openapi["components"]["schemas"]["Error"]
    assert set(error["properties"]) >= {"detail", "code"}
    shared = 0
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    schema = response.get("content", {}).get("application/json", {}).get("schema")
                    assert schema, (method, path, code)
                    shared += schema == {"$ref": "#/components/schemas/Error"}
    assert shared > 300


def test_the_errors_follow_from_what_an_operation_takes(openapi):
    form_put = responses(openapi, "put", "/api/v1/participants/{study_id}/forms/{form_code}/")
    assert {"400", "401", "403", "404", "409", "415", "428"} <= set(form_put)
    # A list of what the user may see: no input to refuse, no object to miss.
    studies = responses(openapi, "get", "/api/v1/studies/")
    assert set(studies) == {"200", "401", "403"}
    # A patient's link takes no credentials: never a 401 or 403.
    link = responses(openapi, "get", "/api/v1/patient/{token}/")
    assert {"401", "403"}.isdisjoint(link)
    assert {"404", "410"} <= set(link)


def test_files_are_documented_with_their_content_types(openapi):
    assert set(responses(openapi, "get", "/api/v1/forms/")["200"]["content"]) == {
        "application/json",
        "text/csv",
    }
    endpoint = responses(openapi, "get", "/api/v1/studies/{code}/endpoint/")["200"]["content"]
    assert set(endpoint) == {"application/json", "text/csv"}
    download = responses(openapi, "get", "/api/v1/jobs/{id}/download/")["200"]["content"]
    assert set(download) == {"application/zip", "application/pdf", "application/json"}  # exports, reports


def test_the_case_list_is_a_page_of_cases_each_of_exactly_one_shape(openapi):
    listed = responses(openapi, "get", "/api/v1/adjudication-cases/")["200"]["content"]["application/json"]
    assert listed["schema"] == {"$ref": "#/components/schemas/PaginatedAdjudicationCaseList"}
    schemas = openapi["components"]["schemas"]
    views = {}
    for name in ("CaseSiteOut", "CaseBoardOut", "CaseManageOut"):
        enum = schemas[name]["properties"]["view"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
        views[name] = schemas[enum]["enum"]
    assert views == {"CaseSiteOut": ["site"], "CaseBoardOut": ["oversight"], "CaseManageOut": ["manage"]}


def test_a_throttled_view_documents_429():
    class Throttled(APIView):
        throttle_classes = [AnonRateThrottle]

    schema = AutoSchema()
    schema.view = Throttled()
    schema.method = "GET"
    assert 429 in schema.error_codes({"parameters": [], "security": []})
    Throttled.throttle_classes = []
    assert 429 not in schema.error_codes({"parameters": [], "security": []})
