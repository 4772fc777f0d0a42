"""Lockout after repeated failed sign-ins (django-axes): the login page, the admin login and the API token
endpoint; by username and address together; the address behind nginx; the answer in the user's language."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from trial.signin import client_ip, client_network

from ..factories import PASSWORD

LIMIT = 5  # SIGNIN_FAILURE_LIMIT's default
COOL_OFF = datetime.timedelta(minutes=15)  # SIGNIN_LOCKOUT_MINUTES's default


def login_page(client: Client, password: str, **extra):
    return client.post("/login/", {"username": "coord07", "password": password}, **extra)


def token(client: APIClient, password: str, **extra):
    credentials = {"username": "coord07", "password": password}
    return client.post("/api/v1/auth/token/", credentials, format="json", **extra)


def test_settings_as_documented(settings):
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert settings.AXES_COOLOFF_TIME == COOL_OFF
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_login_page_locks_out_then_lets_in_after_the_cool_off(coordinator):
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(LIMIT - 1):
            response = login_page(client, "wrong-password-123")
            assert response.status_code == 200  # the form again, with its message
            assert "alert-error" in response.text
        locked = login_page(client, "wrong-password-123")
        assert locked.status_code == 429
        assert "Too many failed sign-ins" in locked.text
        assert '<main id="main"' in locked.text  # the site's own page, not axes' bare text
        assert locked["Retry-After"] == str(15 * 60)

        # While locked out, even the right password is refused.
        assert login_page(client, PASSWORD).status_code == 429
        clock.shift(COOL_OFF + datetime.timedelta(seconds=1))
        response = login_page(client, PASSWORD)
        assert response.status_code == 302
        assert response["Location"] == "/"


def test_lockout_page_is_in_the_users_language(coordinator):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    for _ in range(LIMIT):
        response = login_page(client, "wrong-password-123")
    assert response.status_code == 429
    assert '<html lang="zh-hans">' in response.text


def test_another_address_or_another_user_is_not_locked_out(coordinator, make_user):
    make_user("coord08")
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(LIMIT):
        login_page(attacker, "wrong-password-123")
    assert login_page(attacker, PASSWORD).status_code == 429
    # The real user at the ward's computer signs in; so does a colleague from the attacker's address.
    assert login_page(Client(REMOTE_ADDR="198.51.100.7"), PASSWORD).status_code == 302
    colleague = attacker.post("/login/", {"username": "coord08", "password": PASSWORD})
    assert colleague.status_code == 302


def test_a_successful_sign_in_resets_the_count(coordinator):
    client = Client()
    for _ in range(LIMIT - 1):
        login_page(client, "wrong-password-123")
    assert login_page(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        assert login_page(client, "wrong-password-123").status_code == 200
    assert login_page(client, PASSWORD).status_code == 302


def test_admin_login_locks_out(make_user):
    make_user("admin1", is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(LIMIT):
        response = client.post("/admin/login/", {"username": "admin1", "password": "wrong-password-123"})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    refused = client.post("/admin/login/?next=/admin/", {"username": "admin1", "password": PASSWORD})
    assert refused.status_code == 429


def test_token_endpoint_locks_out_with_json(coordinator):
    client = APIClient()
    for _ in range(LIMIT - 1):
        response = token(client, "wrong-password-123")
        assert response.status_code == 400
    locked = token(client, "wrong-password-123")
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert locked.json()["code"] == "locked_out"
    assert "Too many failed sign-ins" in locked.json()["detail"]
    assert token(client, PASSWORD).status_code == 429


def test_token_lockout_message_in_chinese(coordinator):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    for _ in range(LIMIT):
        response = token(client, "wrong-password-123")
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"


def test_failures_on_one_path_count_on_the_others(coordinator):
    """One counter per username and address, whichever door the guesses come through."""
    for _ in range(LIMIT - 1):
        token(APIClient(), "wrong-password-123")
    assert login_page(Client(), "wrong-password-123").status_code == 429


@pytest.mark.parametrize(
    ("remote", "forwarded", "seen"),
    [
        ("127.0.0.1", "203.0.113.9", "203.0.113.9"),  # nginx on this host: the address it appended
        ("127.0.0.1", "10.9.9.9, 203.0.113.9", "203.0.113.9"),  # a client's own claim before it is ignored
        ("198.51.100.7", "203.0.113.9", "198.51.100.7"),  # not from the proxy: the header is a lie
        ("127.0.0.1", "", "127.0.0.1"),  # no proxy in front (make run)
    ],
)
def test_client_address_behind_nginx(rf, remote, forwarded, seen):
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == seen


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),  # one subscriber's prefix, whatever address in it
        ("2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),  # IPv4 seen through an IPv6 socket
    ],
)
def test_limits_count_an_ipv6_client_by_its_64_prefix(rf, address, counted_as):
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=address)
    assert client_network(request) == counted_as


def test_lockout_follows_the_forwarded_address(coordinator):
    """Behind nginx, guesses from one client lock out that client, not everyone nginx forwards."""
    guesser = Client(HTTP_X_FORWARDED_FOR="203.0.113.9")
    for _ in range(LIMIT):
        login_page(guesser, "wrong-password-123")
    assert login_page(guesser, PASSWORD).status_code == 429
    assert login_page(Client(HTTP_X_FORWARDED_FOR="198.51.100.7"), PASSWORD).status_code == 302


def test_an_overlong_username_is_a_field_message_not_a_stored_attempt(db):
    credentials = {"username": "u" * 300, "password": "x"}
    response = APIClient().post("/api/v1/auth/token/", credentials, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username"}
