"""The API token endpoint asks a user who must use two-factor sign-in for a code of their app (or a recovery
code) before it issues a token; the codes are computed from the device's key by RFC 6238 in the test."""

import time

import pytest
from rest_framework.test import APIClient

from trial.models import Role

from ..factories import PASSWORD
from .test_twofactor import enrol, next_code, totp

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.TWO_FACTOR_REQUIRED = True


@pytest.fixture
def clock(frozen_marker_clock):
    return frozen_marker_clock


@pytest.fixture
def manager(make_user, study):
    return make_user("dm13", role=Role.DATA_MANAGER, study=study)


def ask(**body):
    return APIClient().post("/api/v1/auth/token/", {"password": PASSWORD, **body}, format="json")


def test_a_token_needs_the_apps_code_after_the_password(manager, clock):
    device, _codes = enrol(manager, clock)

    missing = ask(username="dm13")
    assert missing.status_code == 400
    assert missing.json()["code"] == "otp_required"
    assert missing.json()["otp"]

    clock.shift(30)
    wrong = ask(username="dm13", otp=f"{(int(totp(device.key, time.time())) + 1) % 10**6:06d}")
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "otp_wrong"
    assert "token" not in wrong.json()

    clock.shift(60)  # past django-otp's wait after the wrong code
    right = ask(username="dm13", otp=next_code(device, clock))
    assert right.status_code == 200, right.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {right.json()['token']}")
    assert client.get("/api/v1/studies/").status_code == 200


def test_a_recovery_code_gives_one_token_only(manager, clock):
    _device, codes = enrol(manager, clock)
    assert ask(username="dm13", otp=codes[0]).status_code == 200
    again = ask(username="dm13", otp=codes[0])
    assert again.status_code == 400
    assert again.json()["code"] == "otp_wrong"


def test_no_app_enrolled_gets_no_token_and_is_told_to_enrol_on_the_pages(manager):
    response = ask(username="dm13", otp="123456")
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_setup_required"


def test_a_wrong_password_is_refused_before_the_code_is_looked_at(manager, clock):
    device, _codes = enrol(manager, clock)
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "dm13", "password": "not-the-password", "otp": next_code(device, clock)},
        format="json",
    )
    assert response.status_code == 400
    assert "otp" not in response.json()


def test_a_user_who_need_not_use_it_gets_a_token_with_the_password(coordinator):
    response = ask(username=coordinator.username)
    assert response.status_code == 200
    assert response.json()["token"]
