"""Token authentication, the OpenAPI schema and the docs page (served without any CDN)."""

import re

from rest_framework.test import APIClient

from ..factories import PASSWORD


def test_token_login_and_use(coordinator):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "coord07", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/studies/").status_code == 200


def test_wrong_password_is_a_400_with_a_message(coordinator):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "coord07", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["non_field_errors"]


def test_missing_fields_are_field_errors(db):
    response = APIClient().post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_schema_and_docs_are_served_locally(api):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/screenings/{id}/enroll/" in schema.content
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    external = [url for url in re.findall(r"""(?:src|href)=["']([^"']+)""", html) if url.startswith("http")]
    assert external == []
