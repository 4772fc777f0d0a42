"""The answers' schemas (followup/apis/answer_schemas.py): scoring one instrument is one operation with that
instrument's answers, and the server refuses what the schema refuses; the digest settings refuse unknown
fields and values of the wrong type (followup/apis/messages.py, DigestSettingsIn)."""

import pytest

from ..conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(coordinator):
    return client_for(coordinator).get("/api/schema/?format=json").json()


def body(openapi, method: str, path: str) -> dict:
    ref = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return openapi["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_each_instrument_is_scored_by_an_operation_with_its_own_answers(api, openapi):
    assert "/api/v1/instruments/{instrument}/score/" not in openapi["paths"]
    odi = body(openapi, "post", "/api/v1/instruments/odi/score/")["properties"]["answers"]
    vas = body(openapi, "post", "/api/v1/instruments/vas/score/")["properties"]["answers"]
    assert (odi["type"], odi["minItems"], odi["maxItems"]) == ("array", 10, 10)
    assert vas["type"] == "object" and vas["additionalProperties"] is False
    assert vas["properties"]["pain"] == {"type": "integer", "minimum": 0, "maximum": 100, "nullable": True}
    assert not odi.get("nullable") and not vas.get("nullable")
    for answers in (None, [], {"pain": 50, "mood": 1}, {"pain": 101}):
        sent = api.post("/api/v1/instruments/vas/score/", {"answers": answers}, format="json")
        assert sent.status_code == 400, answers
    odi_sent_vas = api.post("/api/v1/instruments/odi/score/", {"answers": {"pain": 5}}, format="json")
    assert odi_sent_vas.status_code == 400
    vas = api.post("/api/v1/instruments/vas/score/", {"answers": {"pain": 50}}, format="json")
    assert vas.status_code == 200


def test_a_visit_questionnaire_takes_either_instrument_and_says_the_url_decides(openapi):
    path = "/api/v1/participants/{study_id}/visits/{visit_code}/questionnaires/{instrument}/"
    answers = body(openapi, "put", path)["properties"]["answers"]
    assert [variant["type"] for variant in answers["oneOf"]] == ["array", "object"]
    assert "instrument in the URL" in answers["description"]


@pytest.mark.parametrize("change", [{"weekly": 0}, {"weekly": "true"}, {"daily": "on"}, {"dayly": True}])
def test_the_digest_settings_refuse_what_their_schema_refuses(coordinator, openapi, change):
    sent = client_for(coordinator).patch("/api/v1/messages/digests/", change, format="json")
    assert sent.status_code == 400 and set(change) <= set(sent.json())
    schema = body(openapi, "patch", "/api/v1/messages/digests/")
    assert schema["additionalProperties"] is False and schema["properties"]["weekly"]["type"] == "boolean"
