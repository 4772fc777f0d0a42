"""The response side of the schema (trial/apis/schema.py): the ETag header where the server sends it, the
answers a view declares beyond the shared ones, and the main flow's links."""

import pytest

FORM = "/api/v1/participants/{study_id}/forms/{form_code}/"


@pytest.fixture
def paths(api) -> dict:
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()["paths"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", FORM, "200"),
        ("put", FORM, "200"),
        ("post", FORM + "{step}/", "200"),
        ("put", "/api/v1/participants/{study_id}/visits/{visit_code}/forms/{form_code}/", "200"),
        ("get", "/api/v1/participants/{study_id}/visits/{visit_code}/questionnaires/{instrument}/", "200"),
        ("put", "/api/v1/participants/{study_id}/visits/{visit_code}/questionnaires/{instrument}/", "200"),
        ("get", "/api/v1/patient/{token}/", "200"),
        ("put", "/api/v1/patient/{token}/", "200"),
    ],
)
def test_the_etag_is_documented_where_it_is_sent(paths, method, path, status):
    header = paths[path][method]["responses"][status]["headers"]["ETag"]
    assert header["required"] is True
    assert header["schema"]["pattern"] == r'^"\d+"$'


def test_no_etag_where_none_is_sent(paths):
    assert "headers" not in paths["/api/v1/participants/"]["get"]["responses"]["200"]
    assert "headers" not in paths[FORM + "sign/"]["post"]["responses"]["201"]


def test_the_endpoint_documents_its_409_with_the_error_body(paths):
    conflict = paths["/api/v1/studies/{code}/endpoint/"]["get"]["responses"]["409"]
    assert "no_endpoint" in conflict["description"]
    assert conflict["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_main_flow_is_linked_from_screening_to_a_completed_form(paths):
    ids = {op["operationId"]: (method, path) for path, ops in paths.items() for method, op in ops.items()}

    def link(method, path, status, name):
        found = paths[path][method]["responses"][status]["links"][name]
        return ids[found["operationId"]], found["parameters"]

    assert link("post", "/api/v1/screenings/", "201", "EnrollScreened") == (
        ("post", "/api/v1/screenings/{id}/enroll/"),
        {"id": "$response.body#/id"},
    )
    assert link("post", "/api/v1/screenings/{id}/enroll/", "201", "SaveForm") == (
        ("put", FORM),
        {"study_id": "$response.body#/study_id"},
    )
    target, parameters = link("put", FORM, "200", "CompleteForm")
    assert target == ("post", FORM + "{step}/")
    assert parameters["step"] == "complete"
    assert parameters["header.If-Match"] == "$response.header.ETag"
