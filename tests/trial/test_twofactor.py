"""Two-factor sign-in (trial/twofactor.py, trial/views/twofactor.py): codes computed here from the device's
key by RFC 6238 with the clock stopped, recovery codes that work once, enrolment and the code page, and the
door held for pages, the session API and the admin."""

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from trial.models import Role, TwoFactorChange, TwoFactorEvent
from trial.twofactor import (
    authenticator_confirm,
    authenticator_pending,
    otp_verify,
    recovery_codes_left,
    recovery_codes_renew,
)

from ..factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.TWO_FACTOR_REQUIRED = True


@pytest.fixture
def clock(frozen_marker_clock):
    return frozen_marker_clock


def totp(key_hex: str, at: float, *, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 (TOTP, HMAC-SHA1), written here from the RFC rather than taken from the library under test."""
    mac = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", int(at // step)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 10**digits:0{digits}d}"


def next_code(device, clock) -> str:
    """The app's code half a minute later: the previous one is used up (a code is accepted once), and any
    wait after a wrong code has passed."""
    clock.shift(30)
    return totp(device.key, time.time())


def enrol(user, clock) -> tuple[TOTPDevice, list[str]]:
    device = authenticator_pending(user=user)
    return authenticator_confirm(user=user, code=next_code(device, clock))


@pytest.fixture
def manager(make_user, study):
    return make_user("dm", role=Role.DATA_MANAGER, study=study)


@pytest.fixture
def investigator(make_user, study, site):
    return make_user("inv07", role=Role.INVESTIGATOR, study=study, site=site)


def test_the_tests_totp_is_rfc_6238():
    # RFC 6238 appendix B, SHA-1, 8 digits
    key = b"12345678901234567890".hex()
    assert [totp(key, at, digits=8) for at in (59, 1111111109, 2000000000)] == [
        "94287082",
        "07081804",
        "69279037",
    ]


def test_a_code_from_the_app_passes_once_and_a_wrong_or_stale_one_never(manager, clock):
    device, _codes = enrol(manager, clock)
    code = next_code(device, clock)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert not otp_verify(manager, wrong)
    assert not otp_verify(manager, "")
    clock.shift(5)  # django-otp makes one wait a second after a wrong code
    assert otp_verify(manager, f"{code[:3]} {code[3:]}")  # typed as the app shows it
    assert not otp_verify(manager, code)  # used already
    stale = totp(device.key, time.time() - 90)  # three steps ago: outside the window of one step either way
    clock.shift(5)
    assert not otp_verify(manager, stale)
    clock.shift(5)
    assert otp_verify(manager, next_code(device, clock))


def test_an_unconfirmed_device_gives_no_code(manager, clock):
    device = authenticator_pending(user=manager)
    assert not otp_verify(manager, next_code(device, clock))
    assert authenticator_confirm(user=manager, code="not a code") is None


def test_a_recovery_code_works_once_and_new_ones_replace_the_old(manager, clock):
    _device, codes = enrol(manager, clock)
    assert len(codes) == len(set(codes)) == 10
    assert otp_verify(manager, codes[0].upper())
    assert recovery_codes_left(manager) == 9
    clock.shift(5)
    assert not otp_verify(manager, codes[0])
    clock.shift(5)
    fresh = recovery_codes_renew(user=manager)
    assert not otp_verify(manager, codes[1])  # the old ones stopped working
    clock.shift(5)
    assert otp_verify(manager, fresh[0])
    assert recovery_codes_left(manager) == 9
    assert list(TwoFactorEvent.objects.filter(user=manager).values_list("change", flat=True)) == [
        TwoFactorChange.RECOVERY_CODES,
        TwoFactorChange.ENROLLED,
    ]


# --- the pages ----------------------------------------------------------------------------------------------


def test_enrolment_scans_a_qr_code_confirms_a_code_and_shows_the_recovery_codes_once(client, manager, clock):
    client.force_login(manager)
    # nothing else opens before enrolment
    held = client.get("/screenings/")
    assert held.status_code == 302 and held["Location"] == "/two-factor/setup/?next=%2Fscreenings%2F"

    page = client.get(held["Location"])
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    assert re.search(r'<figure class="qr" data-role="qr"><svg [^>]*>', html)  # inline: no image fetched
    assert "<img" not in html and "otpauth://" not in html
    key = base64.b32encode(bytes.fromhex(device.key)).decode().rstrip("=")
    shown = re.search(r'data-role="secret">([A-Z2-7 ]+)<', html).group(1)
    assert shown.replace(" ", "") == key
    # a reload shows the same key (the app has scanned it already)
    assert shown in client.get(held["Location"]).content.decode()

    wrong = client.post(held["Location"], {"code": "12345x", "next": "/screenings/"})
    assert wrong.status_code == 400 and not TOTPDevice.objects.filter(confirmed=True).exists()

    done = client.post(held["Location"], {"code": next_code(device, clock), "next": "/screenings/"})
    assert done.status_code == 302 and done["Location"] == "/two-factor/recovery-codes/?next=%2Fscreenings%2F"
    codes_page = client.get(done["Location"]).content.decode()
    shown_codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", codes_page)
    assert sorted(shown_codes) == sorted(StaticToken.objects.values_list("token", flat=True))
    assert len(shown_codes) == 10
    assert 'href="/screenings/"' in codes_page
    # shown once: the next visit says how many are left, not which
    again = client.get(done["Location"]).content.decode()
    assert not re.findall(r"<li><code>", again) and "Unused recovery codes: 10" in again
    assert client.get("/screenings/").status_code == 200  # the session is verified by the enrolment itself
    assert TwoFactorEvent.objects.get(user=manager).change == TwoFactorChange.ENROLLED


def test_sign_in_asks_for_the_code_after_the_password(client, investigator, clock):
    device, _codes = enrol(investigator, clock)
    login = client.post("/login/", {"username": "inv07", "password": PASSWORD, "next": "/participants/"})
    assert login.status_code == 302 and login["Location"] == "/participants/"
    held = client.get("/participants/")
    assert held["Location"] == "/two-factor/verify/?next=%2Fparticipants%2F"
    form = client.get(held["Location"])
    assert form.status_code == 200 and 'autocomplete="one-time-code"' in form.content.decode()

    code = next_code(device, clock)
    wrong = client.post(held["Location"], {"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 400 and "That code is not right" in wrong.content.decode()
    assert client.get("/participants/").status_code == 302
    # right, but straight after a wrong one: django-otp makes one wait, and the page says so
    hurried = client.post(held["Location"], {"code": code})
    assert hurried.status_code == 400 and "wait 1 s" in hurried.content.decode()

    clock.shift(5)
    done = client.post(held["Location"], {"code": next_code(device, clock), "next": "/participants/"})
    assert done.status_code == 302 and done["Location"] == "/participants/"
    assert client.get("/participants/").status_code == 200


def test_a_recovery_code_signs_in_and_leads_to_the_recovery_page(client, investigator, clock):
    _device, codes = enrol(investigator, clock)
    client.force_login(investigator)
    done = client.post("/two-factor/verify/", {"code": codes[3], "next": "/participants/"})
    assert done["Location"] == "/two-factor/recovery-codes/?next=%2Fparticipants%2F"
    page = client.get(done["Location"]).content.decode()
    assert "9 left" in page and "Unused recovery codes: 9" in page
    assert client.get("/participants/").status_code == 200


def test_the_password_alone_cannot_enrol_another_phone(client, investigator, clock):
    enrol(investigator, clock)
    client.force_login(investigator)
    setup = client.get("/two-factor/setup/?next=/participants/")
    assert setup["Location"] == "/two-factor/verify/?next=%2Fparticipants%2F"
    assert client.post("/two-factor/setup/", {"code": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=investigator).count() == 1


def test_an_outside_next_is_not_followed(client, investigator, clock):
    device, _codes = enrol(investigator, clock)
    client.force_login(investigator)
    done = client.post(
        "/two-factor/verify/", {"code": next_code(device, clock), "next": "https://evil.example/"}
    )
    assert done["Location"] == "/"


def test_the_session_api_is_refused_until_verified(investigator, clock):
    device, _codes = enrol(investigator, clock)
    api = APIClient()
    api.force_login(investigator)  # a session, as the pages' own scripts use
    refused = api.get("/api/v1/screenings/")
    assert refused.status_code == 403 and refused.json()["code"] == "two_factor_required"
    assert api.get("/api/schema/").status_code == 403
    assert api.get("/api/docs/")["Location"] == "/two-factor/verify/?next=%2Fapi%2Fdocs%2F"  # a page
    api.post("/two-factor/verify/", {"code": next_code(device, clock)}, format="multipart")  # a page's form
    assert api.get("/api/v1/screenings/").status_code == 200


def test_the_admin_is_refused_until_verified(client, make_user, clock):
    root = make_user("root", is_superuser=True, is_staff=True)
    client.force_login(root)
    assert client.get("/admin/")["Location"] == "/two-factor/setup/?next=%2Fadmin%2F"
    device, _codes = enrol(root, clock)
    assert (
        client.get("/admin/trial/site/")["Location"] == "/two-factor/verify/?next=%2Fadmin%2Ftrial%2Fsite%2F"
    )
    client.post("/two-factor/verify/", {"code": next_code(device, clock)})
    assert client.get("/admin/trial/site/").status_code == 200


def test_the_admin_site_itself_asks_for_a_verified_session(make_user, settings):
    # the admin's own check, should a request reach it without the middleware (as OTPAdminSite does)
    request = RequestFactory().get("/admin/")
    request.user = make_user("root", is_superuser=True, is_staff=True)
    request.user.is_verified = lambda: False
    assert not admin.site.has_permission(request)
    request.user.is_verified = lambda: True
    assert admin.site.has_permission(request)
    del request.user.is_verified
    assert not admin.site.has_permission(request)
    settings.TWO_FACTOR_REQUIRED = False
    assert admin.site.has_permission(request)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", "/healthz", None),
        ("get", "/p/not-a-link/", None),
        ("post", "/i18n/setlang/", "/participants/"),
        ("post", "/logout/", "/participants/"),  # signed out, then on to `next`
        ("get", "/two-factor/setup/", None),
    ],
)
def test_some_pages_stay_open_before_the_second_factor(client, investigator, method, path, expected):
    client.force_login(investigator)
    answer = getattr(client, method)(path, {"language": "zh-hans", "next": "/participants/"})
    assert "/two-factor/verify/" not in answer.get("Location", "")
    if expected:
        assert answer["Location"] == expected


def test_a_user_who_need_not_is_not_held_nor_enrolled(client, coordinator):
    client.force_login(coordinator)
    assert client.get("/screenings/").status_code == 200
    assert "is not asked of you" in client.get("/two-factor/").content.decode()
    # an app they are never asked for would guard nothing
    assert client.get("/two-factor/setup/")["Location"] == "/two-factor/"
    assert not TOTPDevice.objects.exists()


def test_the_setting_off_holds_nobody(client, settings, manager):
    settings.TWO_FACTOR_REQUIRED = False
    client.force_login(manager)
    assert client.get("/screenings/").status_code == 200


def test_the_pages_run_a_fixed_number_of_queries(client, make_user, study, site, other_site, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from trial.models import StaffRole

    enrolling = make_user("new-inv", role=Role.INVESTIGATOR, study=study, site=site)
    enrolled = make_user("old-inv", role=Role.INVESTIGATOR, study=study, site=site)
    device, _codes = enrol(enrolled, clock)

    def counts() -> dict[str, int]:
        found = {}
        for user, path in [
            (enrolling, "/two-factor/setup/"),
            (enrolled, "/two-factor/verify/"),
            (enrolled, "/two-factor/"),
            (enrolled, "/two-factor/recovery-codes/"),
        ]:
            client.force_login(user)
            if path != "/two-factor/verify/":
                client.post("/two-factor/verify/", {"code": next_code(device, clock)})
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(path).status_code == 200, path
            found[path] = len(ctx.captured_queries)
        return found

    before = counts()
    for user in (enrolling, enrolled):  # more roles and more recovery codes: the same queries
        StaffRole.objects.create(user=user, study=study, site=other_site, role=Role.COORDINATOR)
        StaffRole.objects.create(user=user, study=study, role=Role.MONITOR)
    recovery_codes_renew(user=enrolled)
    # The same queries, but for the menu of the pages that draw it: a study-wide monitor's asks once which
    # studies are analysed per vertebra (reports' "Model outputs" item), whatever the roles and codes.
    menu = {"/two-factor/", "/two-factor/recovery-codes/"}
    assert counts() == {path: n + (path in menu) for path, n in before.items()}
    # session, user, then: setup: the OTP device, the rule, enrolled?, the pending app; verify: enrolled?;
    # settings: the device, the user's roles (for the rule and the menu: trial.access.user_roles, read once),
    # enrolled?, codes left, may reset; recovery codes: the device, codes left, the menu's roles
    assert before == {
        "/two-factor/setup/": 6,
        "/two-factor/verify/": 3,
        "/two-factor/": 7,
        "/two-factor/recovery-codes/": 5,
    }
