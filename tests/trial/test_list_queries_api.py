"""Every API list refuses a query it cannot read, walked from the served schema so that no list escapes: each
GET whose answer is a list (a page or an array), each parameter it declares, each kind of bad value the schema
allows us to make. The rules: trial.filters; the mechanism: trial.apis.filtering."""

import re

import pytest

from trial.apis.filtering import QUERY_TEXT
from trial.models import Role

from ..conftest import client_for
from ..reports.riskmodel.workbench import stored_model

pytestmark = pytest.mark.frozen

UNKNOWN = "no_such_parameter"


def _is_list(schema: dict, response: dict) -> bool:
    body = response.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return body.get("type") == "array" or "results" in body.get("properties", {})


def list_operations(schema: dict) -> list[tuple[str, list[dict]]]:
    """(path, query parameters) of every GET that answers a list."""
    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get and _is_list(schema, get["responses"].get("200", {})):
            found.append((path, [p for p in get.get("parameters", []) if p["in"] == "query"]))
    return found


def bad_values(parameter: dict) -> list[str]:
    """Values the parameter's schema refuses, so the server must too: never a list that ignores them."""
    schema = parameter["schema"]
    values = [""]  # a blank is refused on the API (pages take it as "all")
    if "enum" in schema:
        values.append("no such value")  # not shaped as a code either (a well-formed one of no site: 403)
    elif schema.get("type") == "integer":
        values += ["abc", "-1.5", "1e3", str(schema.get("minimum", 1) - 1)]
        if "maximum" in schema:
            values.append(str(schema["maximum"] + 1))
    elif schema.get("type") == "boolean":
        values += ["yes", "null", "1"]
    elif schema.get("format") == "date":
        values += ["2026-13-45", "yesterday", "05/01/2026"]
    else:
        assert "maxLength" in schema, f"{parameter['name']}: a free string with no bound refuses nothing"
        values.append("x" * (schema["maxLength"] + 1))
        if schema.get("pattern") == QUERY_TEXT:
            values += ["   ", "a\x00b"]  # read stripped: a blank; a NUL, which no text field takes
    return values


@pytest.fixture
def superuser_api(make_user, make_participant, study, coordinator):
    participant = make_participant()
    # A superuser who is also the study's data manager: every list answers them (the download log only
    # a data manager), so each reaches its query.
    user = make_user("root", role=Role.DATA_MANAGER, study=study, is_superuser=True, is_staff=True)
    # A blinded reader's queue answers its readers alone, a participant's contact opt-outs their site's staff
    # (config/permissions.py).
    reader = client_for(make_user("reader", role=Role.ADJUDICATOR, study=study))
    site_staff = client_for(coordinator)
    values = {
        "study_id": participant.study_id,
        "code": participant.site.study.code,
        "form_code": "baseline",
        "visit_code": "M12",
    }
    screening = participant.screening_id
    # A risk model, whose validations are a list of its own (the list is read once the model is found).
    risk_model = stored_model(study, user)

    def url(path: str) -> str:
        def value(match):
            name = match.group(1)
            if name == "id" and path.startswith("/api/v1/risk-models/"):
                return str(risk_model.pk)
            if name == "id":
                return str(screening if path.startswith("/api/v1/screenings/") else 999_999)
            return values[name]

        return re.sub(r"\{(\w+)\}", value, path)

    manager = client_for(user)

    class Api:
        """The data manager's client; the reader's and the site staff's for their own lists."""

        def get(self, path, *args, **kwargs):
            client = manager
            if path.startswith("/api/v1/adjudication/"):
                client = reader
            elif "/opt-outs/" in path:
                client = site_staff
            return client.get(path, *args, **kwargs)

    return Api(), url


@pytest.fixture
def served_schema(superuser_api):
    """The schema as /api/schema/ serves it, with the protocols loaded (form codes are theirs)."""
    api, _url = superuser_api
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_walk_finds_every_list(served_schema):
    """The walk is not empty, and takes in the lists of every app (a list that stopped being one fails)."""
    paths = {path for path, _parameters in list_operations(served_schema)}
    assert len(paths) >= 20, sorted(paths)
    for expected in (
        "/api/v1/screenings/",
        "/api/v1/participants/",
        "/api/v1/queries/",
        "/api/v1/visits/",
        "/api/v1/messages/",
        "/api/v1/adjudication-cases/",
        "/api/v1/studies/{code}/jobs/",
        "/api/v1/studies/{code}/endpoint/",
    ):
        assert expected in paths


def test_every_list_refuses_an_unknown_parameter(served_schema, superuser_api):
    api, url = superuser_api
    for path, _parameters in list_operations(served_schema):
        response = api.get(url(path), {UNKNOWN: "1"})
        assert response.status_code == 400, (path, response.status_code)
        body = response.json()
        assert UNKNOWN in body and body["code"] == "invalid_query", (path, body)


def test_every_list_refuses_a_bad_value_of_each_parameter(served_schema, superuser_api):
    api, url = superuser_api
    checked = 0
    for path, parameters in list_operations(served_schema):
        plain = api.get(url(path))
        assert plain.status_code != 400, (path, plain.content[:300])
        for parameter in parameters:
            name = parameter["name"]
            for value in bad_values(parameter):
                response = api.get(url(path), {name: value})
                assert response.status_code == 400, (path, name, value, response.status_code)
                body = response.json()
                assert name in body and body["code"] == "invalid_query", (path, name, value, body)
                checked += 1
            # Given twice: which one would count?
            twice = api.get(f"{url(path)}?{name}=1&{name}=2")
            assert twice.status_code == 400 and name in twice.json(), (path, name)
    assert checked > 100


def test_format_stays_drf_s(superuser_api):
    """DRF reads `format` itself (?format=json): every list takes it."""
    api, _url = superuser_api
    response = api.get("/api/v1/screenings/", {"format": "json"})
    assert response.status_code == 200
