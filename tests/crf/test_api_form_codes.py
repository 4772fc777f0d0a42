"""The form codes the schema lists (crf/apis/codes.py, through trial.hooks.api_path_codes and CodeField), the
If-Match header the server reads, and a data query's body (crf/apis/serializers.py)."""

import pytest

from ..conftest import client_for
from .conftest import PROCEDURE, form_url, put

pytestmark = pytest.mark.django_db

FORM = "/api/v1/participants/{study_id}/forms/{form_code}/"
VISIT_FORM = "/api/v1/participants/{study_id}/visits/{visit_code}/forms/{form_code}/"


@pytest.fixture
def openapi(coordinator):
    return client_for(coordinator).get("/api/schema/?format=json").json()


def form_code(openapi, path: str, method: str = "put") -> dict:
    parameters = openapi["paths"][path][method]["parameters"]
    return next(p for p in parameters if p["name"] == "form_code")["schema"]


def test_the_form_urls_list_the_forms_of_the_loaded_protocols(openapi, api, participant, study):
    grid = form_code(openapi, FORM)
    assert grid["enum"] == sorted(study.current_version.definition["forms"])
    assert "procedure" in grid["enum"] and "followup_mri" not in grid["enum"]
    assert form_code(openapi, VISIT_FORM)["enum"] == ["followup_mri"]
    assert form_code(openapi, "/api/v1/participants/{study_id}/forms/{form_code}/{step}/", "post") == grid
    sent = put(api, participant, PROCEDURE, form="shoe_size")
    assert sent.status_code == 400 and "form" in sent.json()


def test_if_match_that_is_not_an_etag_is_a_400_naming_it(api, participant):
    assert put(api, participant, PROCEDURE).status_code == 200
    for bad in ("abc", '"3";', "*"):
        sent = api.put(form_url(participant), {"data": PROCEDURE}, format="json", HTTP_IF_MATCH=bad)
        assert sent.status_code == 400 and "If-Match" in sent.json(), bad
    assert put(api, participant, PROCEDURE, version=7).status_code == 409


def test_a_query_names_a_form_of_the_protocol_and_blank_text_is_refused(clients, openapi, participant):
    schema = openapi["components"]["schemas"]["QueryRaiseIn"]
    form = schema["properties"]["form"]["allOf"][0]["$ref"].rsplit("/", 1)[-1]
    assert "procedure" in openapi["components"]["schemas"][form]["enum"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["text"]["minLength"] == 1 and schema["properties"]["text"]["pattern"] == r"\S"
    body = {"study_id": participant.study_id, "form": "procedure", "field": "technique", "text": "  "}
    sent = clients["monitor"].post("/api/v1/queries/", body, format="json")
    assert sent.status_code == 400 and "text" in sent.json()
