"""Security headers on pages and API answers, cookies, and HTTPS behind nginx."""

import pytest
from django.test import Client

from ..factories import PASSWORD

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",  # no inline script, no eval
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().partition(" ")[::2] for part in header.split(";"))


def assert_security_headers(response):
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert directives(response["Content-Security-Policy"]) == CSP


@pytest.fixture
def production_hsts(settings):
    """HSTS as production has it (the tests' environment is production with DEBUG off, so it already is)."""
    assert settings.SECURE_HSTS_SECONDS == 31_536_000


def test_page_headers(coordinator, production_hsts):
    client = Client()
    client.force_login(coordinator)
    # Over HTTPS as nginx forwards it: gunicorn or X-Forwarded-Proto makes the request secure.
    response = client.get("/participants/", secure=True)
    assert response.status_code == 200
    assert_security_headers(response)


def test_login_page_headers(db, production_hsts):
    assert_security_headers(Client().get("/login/", HTTP_X_FORWARDED_PROTO="https"))


def test_api_headers(api, production_hsts):
    response = api.get("/api/v1/studies/", secure=True)
    assert response.status_code == 200
    assert_security_headers(response)


def test_no_hsts_over_plain_http(db):
    """A browser ignores HSTS over http; sending it only over https is what the standard says."""
    assert "Strict-Transport-Security" not in Client().get("/login/")


def test_plain_http_is_redirected_in_production_except_health(db, settings):
    settings.SECURE_SSL_REDIRECT = True  # the production default; the tests' live server speaks http
    client = Client()
    response = client.get("/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"
    assert client.get("/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert client.get("/healthz").status_code == 200  # systemd's and the smoke test's check on loopback


def test_session_and_csrf_cookies_are_http_only(coordinator, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True  # production defaults
    client = Client()
    page = client.get("/login/")
    csrf = page.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["secure"] and csrf["samesite"] == "Lax"

    response = client.post(
        "/login/", {"username": "coord07", "password": PASSWORD, "csrfmiddlewaretoken": csrf.value}
    )
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["secure"] and session["samesite"] == "Lax"
    assert session["max-age"] == ""  # ends when the browser closes (shared ward computers)


def test_docs_page_needs_no_inline_script(api):
    html = api.get("/api/docs/").content.decode()
    assert "<script>" not in html
