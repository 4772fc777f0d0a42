"""An unknown URL under /api/ answers the API's JSON 404, not the HTML page, and every route answers OPTIONS
(the fuzzer found both)."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from ..conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/adjudication-cases/-1/",  # <int:pk> refuses a negative number: no route matches
        "/api/v1/adjudication-cases/true/assign/",
        "/api/v1/no-such-thing/",
    ],
)
def test_an_unrouted_api_url_is_a_json_404(coordinator, url):
    response = client_for(coordinator).get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unrouted_api_url_is_a_json_404_signed_out_too(client):
    response = client.get("/api/v1/adjudication-cases/x/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_page_url_still_gets_the_page(client, coordinator):
    client.force_login(coordinator)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.fixture(scope="module")
def api_paths():
    return list(SchemaGenerator().get_schema(request=None, public=True)["paths"])


def test_every_api_route_answers_options(coordinator, study, api_paths):
    """OPTIONS (DRF's metadata) on every route: the case list's was a 500, having no serializer to describe
    (schemathesis' coverage phase found it)."""
    client = client_for(coordinator)
    for path in api_paths:
        url = re.sub(r"\{[^}]+\}", "1", path).replace("/studies/1/", f"/studies/{study.code}/")
        response = client.options(url)
        assert response.status_code < 500, (url, response.status_code)
    assert client.options("/api/v1/adjudication-cases/").status_code == 200
