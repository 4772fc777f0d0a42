"""Patient links under attack: per-client rate limits (pages and API), the same answer for an altered token
and an unknown key, and no token in any answer or log (followup/views/link_limits.py, services/links.py)."""

import logging
import re
import uuid

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext
from rest_framework.test import APIClient

from followup.models import PatientLink
from followup.services import links
from followup.services.links import patient_link_issue
from trial.signin import client_ip

from ..conftest import open_visit

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

ODI_16 = [2, 1, 3, 2, 1, 2, 1, 0, 2, 2]
FAILURES = 5  # the failure limit these tests run with
PATIENT = "203.0.113.5"  # documentation addresses (RFC 5737): one patient's phone, one guesser
GUESSER = "198.51.100.9"


@pytest.fixture(autouse=True)
def limits_on(settings):
    """The limits on (tests/conftest.py switches them off), counted under a prefix of this test's own."""
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"
    settings.PATIENT_LINK_FAILURE_RATE = f"{FAILURES}/h"
    settings.PATIENT_LINK_RATE = "300/10m"  # the shipped default
    return settings


@pytest.fixture
def visit(make_participant, odi_wording):
    return open_visit(make_participant())


@pytest.fixture
def token(coordinator, visit) -> str:
    return patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="zh-hans")[1]


def via_nginx(address: str, **extra) -> Client:
    """A client behind the trusted proxy: nginx on this host appends the peer's address to X-Forwarded-For."""
    return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=address, **extra)


def api_via_nginx(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=address)


def altered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def forged_unknown() -> str:
    """Well signed (as if SECRET_KEY had leaked), naming no link."""
    return signing.Signer(salt=links.SALT, sep=".").sign(uuid.uuid4().hex[:22])


def wrong_tokens(count: int) -> list[str]:
    shapes = [lambda: altered(forged_unknown()), forged_unknown, lambda: "not-a-token", lambda: "x" * 300]
    return [shapes[i % len(shapes)]() for i in range(count)]


def odi_post(answers, action="save", version=1) -> dict:
    data = {"action": action, "version": str(version), "lang": "zh-hans"}
    data.update({f"q{i}": str(value) for i, value in enumerate(answers) if value is not None})
    return data


def holds(answer, token: str) -> bool:
    """Whether an answer carries the token anywhere: its body or any header."""
    return token in answer.content.decode() or any(token in value for _name, value in answer.items())


# --- the limits ---------------------------------------------------------------------------------------------


def test_a_burst_of_wrong_tokens_gets_429_after_n_and_then_every_link_is_refused(token):
    guesser = via_nginx(GUESSER)
    for wrong in wrong_tokens(FAILURES):
        assert guesser.get(f"/p/{wrong}/").status_code == 404
    wrong = forged_unknown()
    limited = guesser.get(f"/p/{wrong}/")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    html = limited.content.decode()
    # A friendly page in both languages, with nothing of the token (no link back to it either).
    assert 'lang="zh-hans"' in html and 'lang="en"' in html and 'data-reason="rate_limited"' in html
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert gettext("Please try again later") in html
    assert not holds(limited, wrong) and "/p/" not in html and "no-store" in limited["Cache-Control"]
    # Slowed down hard: every link, a live one too, its stop page and the API, until the window ends.
    assert guesser.get(f"/p/{token}/").status_code == 429
    assert guesser.post(f"/p/{token}/stop/", {"channel": "sms"}).status_code == 429
    api = api_via_nginx(GUESSER).get(f"/api/v1/patient/{token}/")
    assert api.status_code == 429 and api["Retry-After"] and not holds(api, token)
    assert PatientLink.objects.get().opened_at is None  # refused before the link was even looked up


def test_the_limit_is_per_client(token):
    guesser = via_nginx(GUESSER)
    for wrong in wrong_tokens(FAILURES + 1):
        guesser.get(f"/p/{wrong}/")
    assert guesser.get(f"/p/{token}/").status_code == 429
    # Another address is not limited: its link opens, and a wrong token is a plain 404 there.
    other = via_nginx(PATIENT)
    assert other.get(f"/p/{token}/").status_code == 200
    assert other.get(f"/p/{altered(token)}/").status_code == 404


def test_the_api_counts_wrong_tokens_too(token):
    api = api_via_nginx(GUESSER)
    for wrong in wrong_tokens(FAILURES):
        assert api.get(f"/api/v1/patient/{wrong}/").status_code == 404
    answer = api.put(f"/api/v1/patient/{token}/", {"answers": ODI_16}, format="json")
    assert answer.status_code == 429 and "detail" in answer.json()
    assert via_nginx(GUESSER).get(f"/p/{token}/").status_code == 429  # one count for pages and API


def test_a_patient_answering_normally_never_notices(token):
    """A whole session, slow or hurried: open, save three times (each redirected to a reload), review,
    submit, stop the SMS reminders, and open the used link again and again: no 429, and the refusals of a
    link signed here (used: 410) are not counted as guesses."""
    phone = via_nginx(PATIENT)
    page = f"/p/{token}/"
    answers = []
    assert phone.get(page).status_code == 200
    for version, upto in enumerate((3, 6, 9), start=1):
        saved = phone.post(page, odi_post(ODI_16[:upto], version=version))
        answers.append(saved)
        answers.append(phone.get(page + saved["Location"]))
    answers.append(phone.post(page, odi_post(ODI_16, action="review", version=4)))
    version = re.search(r'name="version" value="(\d+)"', answers[-1].content.decode()).group(1)
    answers.append(phone.post(page, {"action": "submit", "version": version, "lang": "zh-hans"}))
    assert [a.status_code for a in answers] == [302, 200, 302, 200, 302, 200, 200, 200]
    assert "patient_done" in answers[-1].templates[0].name
    again = [phone.get(page).status_code for _ in range(FAILURES + 3)]
    assert again == [410] * (FAILURES + 3)


def test_the_page_limit_counts_every_request(token, settings):
    settings.PATIENT_LINK_RATE = "4/m"
    phone = via_nginx(PATIENT)
    assert [phone.get(f"/p/{token}/").status_code for _ in range(5)] == [200, 200, 200, 200, 429]
    assert via_nginx(GUESSER).get(f"/p/{token}/").status_code == 200


def test_the_client_is_the_address_the_trusted_proxy_appended(rf, token):
    # Behind nginx: the last address of X-Forwarded-For, which nginx appended; the ones before it are the
    # client's own claims and change nothing.
    assert client_ip(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.9.9.9, {GUESSER}")) == (
        GUESSER
    )
    # Not from the trusted proxy: the header is anyone's to write, so the peer's address counts.
    assert client_ip(rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=GUESSER)) == "192.0.2.1"
    assert client_ip(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="garbage")) == "127.0.0.1"
    # So a guesser reaching gunicorn directly cannot dodge the limit with a new header on each request.
    for i in range(FAILURES):
        Client(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").get(f"/p/{altered(token)}/")
    assert (
        Client(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.0.0.99").get(f"/p/{token}/").status_code
        == 429
    )
    # Nor through nginx, by claiming addresses in front of the one nginx appends.
    for i in range(FAILURES):
        via_nginx(f"10.0.0.{i}, {GUESSER}").get(f"/p/{altered(token)}/")
    assert via_nginx(f"10.1.1.1, {GUESSER}").get(f"/p/{token}/").status_code == 429


def test_an_unreachable_cache_skips_the_limits_and_is_no_500(token, settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        "unreachable": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
        },
    }
    settings.RATELIMIT_USE_CACHE = "unreachable"
    with caplog.at_level(logging.WARNING):
        assert via_nginx(PATIENT).get(f"/p/{token}/").status_code == 200
        assert via_nginx(PATIENT).get(f"/p/{altered(token)}/").status_code == 404
    assert "rate limit skipped" in caplog.text and token not in caplog.text


# --- nothing to enumerate -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/p/{}/", "/p/{}/stop/?channel=sms", "/api/v1/patient/{}/"])
def test_an_altered_token_and_an_unknown_key_get_the_same_answer(token, path):
    answers = {}
    for name, wrong in (("altered", altered(token)), ("unknown", forged_unknown())):
        with CaptureQueriesContext(connection) as queries:
            answer = via_nginx(PATIENT).get(path.format(wrong))
        body = answer.content.decode()
        assert not holds(answer, wrong)
        answers[name] = (answer.status_code, body, len(queries), sorted(answer.headers))
    # The same status, page, headers and work (one lookup each: the same timing class).
    assert answers["altered"] == answers["unknown"]
    assert answers["unknown"][0] == 404 and answers["unknown"][2] == 1


def test_a_used_link_says_so_only_when_signed_here(token):
    PatientLink.objects.update(used_at=PatientLink.objects.get().created_at)
    phone = via_nginx(PATIENT)
    used = phone.get(f"/p/{token}/")
    assert used.status_code == 410 and 'data-reason="used"' in used.content.decode()
    refused = phone.get(f"/p/{altered(token)}/")
    assert refused.status_code == 404 and 'data-reason="unknown"' in refused.content.decode()


# --- no token in any answer or log --------------------------------------------------------------------------


def test_no_answer_and_no_log_holds_the_token(token, settings, caplog):
    settings.PATIENT_LINK_RATE = "12/m"
    phone = via_nginx(PATIENT)
    page = f"/p/{token}/"
    with caplog.at_level(logging.DEBUG):
        answers = [
            phone.get(page),
            phone.get(page, {"lang": "en"}),
            phone.post(page, odi_post(ODI_16[:4])),
            phone.post(page, odi_post([9] * 10, version=2)),  # refused answers: the page again, 400
            phone.post(page, odi_post(ODI_16, version=1)),  # stale: 409
            phone.get(f"{page}stop/", {"channel": "sms"}),
            phone.get(f"{page}stop/", {"channel": "fax"}),  # 400
            phone.post(f"{page}stop/", {"channel": "sms"}),
            phone.post(page, odi_post(ODI_16, action="review", version=2)),
            phone.post(page, {"action": "submit", "version": "3", "lang": "en"}),
            phone.get(page),  # used: 410
            APIClient(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=PATIENT).get(f"/api/v1/patient/{token}/"),
            phone.get(page),  # over the page limit: 429
        ]
    assert [a.status_code for a in answers] == [
        200,
        200,
        302,
        400,
        409,
        200,
        400,
        302,
        200,
        200,
        410,
        410,
        429,
    ]
    for answer in answers:
        assert not holds(answer, token), answer.status_code
    assert token not in caplog.text and token.partition(".")[0] not in caplog.text
