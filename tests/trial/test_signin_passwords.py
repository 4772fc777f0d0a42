"""The password policy (NIST SP 800-63B: length, not common, not all digits, not the user's name; no
composition rules, no forced change) and the page where a signed-in user changes their password."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from ..factories import PASSWORD


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("elevenchars", "too short"),  # 11 characters: the old minimum of 10 let it through
        ("password1234", "too common"),
        ("583920174652", "entirely numeric"),
        ("coordinator07", "too similar"),
    ],
)
def test_weak_passwords_are_refused(coordinator, password, why):
    coordinator.username = "coordinator07"
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user=coordinator)
    assert why in " ".join(refused.value.messages)


@pytest.mark.parametrize("password", ["twelve chars", "a long walk by the river", "lowercaseonlyphrase"])
def test_long_passwords_need_no_symbols_digits_or_capitals(coordinator, password):
    validate_password(password, user=coordinator)  # no composition rules (800-63B 5.1.1.2)


@pytest.fixture
def signed_in(coordinator) -> Client:
    client = Client()
    client.force_login(coordinator)
    return client


def test_change_password_page_in_the_sites_layout(signed_in, django_assert_num_queries):
    with django_assert_num_queries(3):  # session, user, the menu's roles
        response = signed_in.get("/password/")
    assert response.status_code == 200
    assert '<main id="main"' in response.text
    assert 'name="old_password"' in response.text
    assert "At least 12 characters" in response.text


def test_change_password_page_in_chinese(signed_in):
    response = signed_in.get("/password/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert '<html lang="zh-hans">' in response.text


def test_the_topbar_leads_to_the_page(signed_in):
    """The user's name in the top bar opens their account page (two-factor sign-in), which links here."""
    assert 'href="/two-factor/"' in signed_in.get("/").text
    assert 'href="/password/"' in signed_in.get("/two-factor/").text


def test_change_password_needs_a_sign_in(db):
    response = Client().get("/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_weak_new_password_is_shown_beside_the_field(signed_in, coordinator):
    response = signed_in.post(
        "/password/", {"old_password": PASSWORD, "new_password1": "short1", "new_password2": "short1"}
    )
    assert response.status_code == 200
    assert "This password is too short" in response.text
    coordinator.refresh_from_db()
    assert coordinator.check_password(PASSWORD)


def test_change_password_keeps_this_session_and_says_so(signed_in, coordinator):
    new = "a long walk by the river"
    response = signed_in.post(
        "/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "Your password was changed." in response.text
    coordinator.refresh_from_db()
    assert coordinator.check_password(new)
    assert signed_in.get("/participants/").status_code == 200


def test_wrong_current_passwords_count_as_failed_sign_ins(signed_in):
    """At an unattended session the password page is no way round the lockout (axes counts each wrong current
    password as the login page does); the account is then locked at the login page too."""
    wrong = {"old_password": "not-my-password-1", "new_password1": "a long walk by the river"}
    wrong["new_password2"] = wrong["new_password1"]
    for _ in range(4):
        response = signed_in.post("/password/", wrong)
        assert response.status_code == 200 and 'name="old_password"' in response.text
    assert signed_in.post("/password/", wrong).status_code == 429
    assert Client().post("/login/", {"username": "coord07", "password": PASSWORD}).status_code == 429


def test_an_administrators_password_reset_ends_the_users_api_tokens(coordinator, make_user):
    from knox.models import AuthToken

    AuthToken.objects.create(user=coordinator)
    admin = make_user("root", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(admin)
    new = "a long walk by the river"
    done = client.post(
        f"/admin/auth/user/{coordinator.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert done.status_code == 302, done.content.decode()[:2000]
    assert not AuthToken.objects.filter(user=coordinator).exists()
