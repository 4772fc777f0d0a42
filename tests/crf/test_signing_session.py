"""The signing session (21 CFR 11.200(a)(1)): the first signing of a session takes the user ID and the
password, later ones in the same session the password; a new session asks for the user ID again. Pages keep
the session in the Django session, the API in its token."""

import datetime
import hashlib

import pytest
from django.core.cache import cache
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from crf import services
from crf.models import Signature
from crf.services.signing_session import TokenSession

from ..factories import PASSWORD
from .conftest import PROCEDURE, current_version, put

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


@pytest.fixture
def verified(make_participant, staff, clients):
    """A factory: a new participant whose procedure form is verified, ready to sign."""

    def make():
        participant = make_participant()
        put(clients["coordinator"], participant, PROCEDURE)
        services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="procedure")
        services.crf_verify(
            actor=staff["monitor"],
            participant=participant,
            form_code="procedure",
            expected_version=current_version(participant),
        )
        return participant

    return make


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_url(participant, step: str = "") -> str:
    return f"/participants/{participant.study_id}/forms/procedure/" + (f"{step}/" if step else "")


def sign_on_page(client, participant, **fields):
    body = {"version": str(current_version(participant)), "sign-meaning": "approval"}
    body |= {f"sign-{name}": value for name, value in fields.items()}
    return client.post(page_url(participant, "sign"), body)


def asks_user_id(client, participant) -> bool:
    page = client.get(page_url(participant)).content.decode()
    assert "Sign the form" in page
    return 'name="sign-username"' in page


def test_the_page_asks_the_user_id_on_the_first_signing_only(staff, verified):
    first, second = verified(), verified()
    investigator = logged_in(staff["investigator"])
    assert asks_user_id(investigator, first)

    # given: no user ID, another user's, then the signer's own
    blank = sign_on_page(investigator, first, password=PASSWORD)
    assert blank.status_code == 400 and "This field is required." in blank.content.decode()
    other = sign_on_page(investigator, first, username="mon", password=PASSWORD)
    assert other.status_code == 403
    assert "This is not your user ID; the form was not signed." in other.content.decode()
    assert not Signature.objects.exists()
    assert sign_on_page(investigator, first, username="inv07", password=PASSWORD).status_code == 302
    assert Signature.objects.count() == 1

    # then: the same session signs with the password alone, and the page no longer asks for the user ID
    assert not asks_user_id(investigator, second)
    wrong = sign_on_page(investigator, second, password="nope")
    assert wrong.status_code == 403 and "The password is not correct" in wrong.content.decode()
    assert sign_on_page(investigator, second, password=PASSWORD).status_code == 302
    assert Signature.objects.count() == 2


def test_a_new_session_asks_for_the_user_id_again(staff, verified):
    first, second = verified(), verified()
    signed = sign_on_page(logged_in(staff["investigator"]), first, username="inv07", password=PASSWORD)
    assert signed.status_code == 302
    again = logged_in(staff["investigator"])  # a new sign-in: a new session
    assert asks_user_id(again, second)
    assert sign_on_page(again, second, password=PASSWORD).status_code == 400
    assert Signature.objects.count() == 1


def test_a_signing_refused_for_another_reason_does_not_open_the_session(staff, verified):
    participant = verified()
    investigator = logged_in(staff["investigator"])
    stale = investigator.post(
        page_url(participant, "sign"),
        {"version": "1", "sign-meaning": "approval", "sign-username": "inv07", "sign-password": PASSWORD},
    )
    assert stale.status_code == 409  # the user ID and password were right, but nothing was signed
    assert asks_user_id(investigator, participant)


def test_wrong_or_missing_user_ids_count_towards_the_lock_out(staff, verified):
    participant = verified()
    investigator = staff["investigator"]
    for username in ["", "mon", "", "pi"]:
        with pytest.raises(services.signatures.Forbidden) as refused:
            services.crf_sign(
                actor=investigator,
                participant=participant,
                form_code="procedure",
                username=username,
                password=PASSWORD,
                meaning="approval",
            )
        assert refused.value.code == ("bad_user_id" if username else "user_id_required")
        assert list(refused.value.field_errors) == ["username"]
    # the fifth mistake, a wrong password, locks signing: then even the right user ID and password are refused
    with pytest.raises(services.signatures.Forbidden):
        services.crf_sign(
            actor=investigator,
            participant=participant,
            form_code="procedure",
            username="inv07",
            password="nope",
            meaning="approval",
        )
    with pytest.raises(services.signatures.Forbidden) as locked:
        services.crf_sign(
            actor=investigator,
            participant=participant,
            form_code="procedure",
            username="inv07",
            password=PASSWORD,
            meaning="approval",
        )
    assert locked.value.code == "signing_locked_out"


# --- the API, with a token --------------------------------------------------------------------------------


def token_client(user) -> tuple[APIClient, AuthToken, str]:
    """A client with a new knox token of the user, the token's row, and the token itself (the secret)."""
    token, secret = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client, token, secret


def sign_by_api(client, participant, **fields):
    url = f"/api/v1/participants/{participant.study_id}/forms/procedure/sign/"
    version = current_version(participant)
    return client.post(url, {"meaning": "approval", **fields}, format="json", HTTP_IF_MATCH=f'"{version}"')


def test_the_api_asks_the_user_id_on_a_tokens_first_signing_only(staff, verified):
    first, second, third = verified(), verified(), verified()
    client, token, secret = token_client(staff["investigator"])

    missing = sign_by_api(client, first, password=PASSWORD)
    assert missing.status_code == 403
    assert missing.json()["code"] == "user_id_required" and "username" in missing.json()
    other = sign_by_api(client, first, username="pi", password=PASSWORD)
    assert other.status_code == 403 and other.json()["code"] == "bad_user_id"
    assert sign_by_api(client, first, username="inv07", password=PASSWORD).status_code == 201

    # the same token: the password alone; a wrong user ID given anyway is still refused
    assert sign_by_api(client, second, username="mon", password=PASSWORD).status_code == 403
    assert sign_by_api(client, second, password=PASSWORD).status_code == 201

    # a new token (the old one revoked) is a new session; the mark is keyed by a digest, never the token
    key = TokenSession(token).key
    assert secret not in key and token.digest not in key
    assert key.endswith(hashlib.sha256(f"knox.authtoken:{token.pk}".encode()).hexdigest())
    token.delete()
    again, new_token, _secret = token_client(staff["investigator"])
    assert sign_by_api(again, third, password=PASSWORD).json()["code"] == "user_id_required"
    assert cache.get(key) == staff["investigator"].pk and cache.get(TokenSession(new_token).key) is None


def test_a_tokens_signing_session_lasts_the_configured_time(staff, verified, settings):
    settings.SIGNING_TOKEN_SESSION_SECONDS = 120
    client, token, _secret = token_client(staff["investigator"])  # a knox token lives 10 hours
    assert sign_by_api(client, verified(), username="inv07", password=PASSWORD).status_code == 201
    redis = cache._cache.get_client(write=False)
    assert 110 <= redis.ttl(cache.make_and_validate_key(TokenSession(token).key)) <= 120


def test_a_tokens_signing_session_never_outlives_the_token(staff, verified, settings):
    settings.SIGNING_TOKEN_SESSION_SECONDS = 3600
    soon = datetime.timedelta(seconds=90)
    token, secret = AuthToken.objects.create(user=staff["investigator"], expiry=soon)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert sign_by_api(client, verified(), username="inv07", password=PASSWORD).status_code == 201
    redis = cache._cache.get_client(write=False)
    assert 0 < redis.ttl(cache.make_and_validate_key(TokenSession(token).key)) <= 90


def test_the_schema_documents_the_user_id_and_the_refusals(clients):
    schema = clients["investigator"].get("/api/schema/", {"format": "json"}).json()
    sign = schema["paths"]["/api/v1/participants/{study_id}/forms/{form_code}/sign/"]["post"]
    assert "user_id_required" in sign["description"] and "403" in sign["responses"]
    reference = sign["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert "username" in body["properties"] and "username" not in body.get("required", [])
    verdict = schema["paths"]["/api/v1/adjudication/queue/{reading_code}/verdict/"]["post"]
    assert "user_id_required" in verdict["description"] and "403" in verdict["responses"]
