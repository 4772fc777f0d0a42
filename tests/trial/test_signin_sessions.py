"""Sessions end after SESSION_IDLE_MINUTES without a request; each request renews them."""

import datetime

import time_machine
from django.test import Client
from django.utils import timezone

from trial.signin import LAST_SEEN_KEY

from ..factories import PASSWORD

IDLE = datetime.timedelta(minutes=30)  # SESSION_IDLE_MINUTES's default


def signed_in(client: Client) -> Client:
    response = client.post("/login/", {"username": "coord07", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_default_is_thirty_minutes(settings):
    assert settings.SESSION_IDLE_MINUTES == 30


def test_page_after_idle_time_goes_to_login_with_a_message(coordinator):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(Client())
        clock.shift(IDLE - datetime.timedelta(seconds=5))
        assert client.get("/participants/").status_code == 200

        clock.shift(IDLE + datetime.timedelta(seconds=1))
        response = client.get("/participants/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=/participants/")
        login = client.get(response["Location"])
        assert "signed out after 30 minutes without activity" in login.text
        # Signed out for good: the session is gone, not only hidden for one request.
        assert client.get("/participants/").status_code == 302


def test_each_request_renews_the_session(coordinator):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(Client())
        for _ in range(4):  # two hours of work, never 30 minutes idle
            clock.shift(datetime.timedelta(minutes=29))
            assert client.get("/participants/").status_code == 200


def test_the_idle_limit_is_a_setting(coordinator, settings):
    settings.SESSION_IDLE_MINUTES = 5
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(Client())
        clock.shift(datetime.timedelta(minutes=6))
        assert client.get("/participants/").status_code == 302


def test_api_with_an_idle_session_is_refused(coordinator):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(Client())
        assert client.get("/api/v1/studies/").status_code == 200
        clock.shift(IDLE + datetime.timedelta(minutes=1))
        response = client.get("/api/v1/studies/")
        assert response.status_code in (401, 403)
        assert response["Content-Type"] == "application/json"


def test_renewal_writes_the_session_at_most_once_a_minute(coordinator):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(Client())
        client.get("/participants/")
        stamp = client.session[LAST_SEEN_KEY]
        clock.shift(datetime.timedelta(seconds=30))
        client.get("/participants/")
        assert client.session[LAST_SEEN_KEY] == stamp
        clock.shift(datetime.timedelta(seconds=31))
        client.get("/participants/")
        assert client.session[LAST_SEEN_KEY] == stamp + 61
