"""API tokens (django-rest-knox): issued with their expiry, expire after API_TOKEN_HOURS, revoked by logout,
logout-all, the admin and a password change; DRF's never-expiring authtoken is gone."""

import datetime

import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from rest_framework.test import APIClient

from ..factories import PASSWORD


def issue(username: str = "coord07") -> dict:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_token_answers_its_expiry_and_expires(coordinator, settings):
    assert settings.REST_KNOX["TOKEN_TTL"] == datetime.timedelta(hours=10)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        issued_at = timezone.now()
        answer = issue()
        assert set(answer) == {"token", "expiry"}
        assert parse_datetime(answer["expiry"]) == issued_at + datetime.timedelta(hours=10)
        client = with_token(answer["token"])
        clock.shift(datetime.timedelta(hours=9, minutes=59))
        assert client.get("/api/v1/studies/").status_code == 200
        clock.shift(datetime.timedelta(minutes=2))
        response = client.get("/api/v1/studies/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_only_a_digest_is_stored(coordinator):
    key = issue()["token"]
    stored = AuthToken.objects.get(user=coordinator)
    assert key not in (stored.digest, stored.token_key)
    assert len(stored.digest) == 128  # SHA-512


def test_logout_revokes_this_token_only(coordinator):
    first, second = with_token(issue()["token"]), with_token(issue()["token"])
    assert first.post("/api/v1/auth/logout/").status_code == 204
    assert first.get("/api/v1/studies/").status_code == 401
    assert second.get("/api/v1/studies/").status_code == 200


def test_logout_all_revokes_every_token_of_the_user(coordinator, monitor):
    first, second = with_token(issue()["token"]), with_token(issue()["token"])
    others = with_token(issue("monitor")["token"])
    assert first.post("/api/v1/auth/logout-all/").status_code == 204
    assert first.get("/api/v1/studies/").status_code == 401
    assert second.get("/api/v1/studies/").status_code == 401
    assert others.get("/api/v1/studies/").status_code == 200


def test_logout_without_a_token_is_a_401(db):
    assert APIClient().post("/api/v1/auth/logout/").status_code == 401


def test_admin_revokes_a_users_tokens(coordinator, make_user):
    client = with_token(issue()["token"])
    admin = Client()
    admin.force_login(make_user("admin1", is_staff=True, is_superuser=True))
    listing = admin.get("/admin/knox/authtoken/", {"q": "coord07"})
    assert listing.status_code == 200
    ids = list(AuthToken.objects.filter(user=coordinator).values_list("pk", flat=True))
    response = admin.post(
        "/admin/knox/authtoken/",
        {"action": "delete_selected", "_selected_action": [str(pk) for pk in ids], "post": "yes"},
    )
    assert response.status_code == 302
    assert client.get("/api/v1/studies/").status_code == 401


def test_admin_cannot_issue_a_token_for_someone_else(make_user):
    """An admin issuing a token for a user could act through the API in that user's name."""
    admin = Client()
    admin.force_login(make_user("admin1", is_staff=True, is_superuser=True))
    assert admin.get("/admin/knox/authtoken/add/").status_code == 403


def test_password_change_revokes_the_users_tokens(coordinator):
    client = with_token(issue()["token"])
    page = Client()
    page.force_login(coordinator)
    new = "a long walk by the river"
    response = page.post("/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert client.get("/api/v1/studies/").status_code == 401


def test_drf_authtoken_is_gone(db, settings):
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS
    assert "authtoken_token" not in connection.introspection.table_names()
