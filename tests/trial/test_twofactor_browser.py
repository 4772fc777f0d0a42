"""Two-factor sign-in in a real browser: enrolment through the QR code page (the key read off the page, the
code computed from it), the recovery codes, then a sign-in with an app code and one with a recovery code, in
English and in Chinese. Screenshots of the pages go to /tmp/shots13/ for a look by eye."""

import base64
import re
import time
from pathlib import Path

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from trial.models import Role

from ..browser import BROWSER_MARKS
from ..factories import PASSWORD
from .test_twofactor import totp

pytestmark = BROWSER_MARKS
SHOTS = Path("/tmp/shots13")  # noqa: S108 -- screenshots to look at, where the issue asks for them


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.TWO_FACTOR_REQUIRED = True


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/login/?next=/participants/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.stack button[type=submit]").click()


def fresh_code(key_hex: str, user) -> str:
    """The app's code now, or the next one when this one was used already (a code is accepted once)."""
    last = TOTPDevice.objects.get(user=user, confirmed=True).last_t
    step = max(int(time.time() // 30), last + 1)
    return totp(key_hex, step * 30)


def test_enrol_with_a_qr_code_then_sign_in_with_a_code(transactional_db, live_server, make_user, study, page):
    from playwright.sync_api import expect

    SHOTS.mkdir(exist_ok=True)
    manager = make_user("dm", role=Role.DATA_MANAGER, study=study)
    make_user("inv07", role=Role.INVESTIGATOR, study=study, site=study.sites.get(code="07"))

    # the password alone leads to enrolment, with a QR code drawn inline
    sign_in(page, live_server.url, "dm")
    page.wait_for_url(re.compile(r"/two-factor/setup/\?next=%2Fparticipants%2F$"))
    qr = page.locator("[data-role=qr] svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 150 and box["width"] == box["height"]
    page.screenshot(path=SHOTS / "2fa_setup_en.png", full_page=True)

    # the setup key on the page is the device's: a code computed from it confirms the app
    secret = page.locator("[data-role=secret]").inner_text().replace(" ", "")
    key_hex = base64.b32decode(secret + "=" * (-len(secret) % 8)).hex()
    assert key_hex == TOTPDevice.objects.get(user=manager).key
    page.fill("#id_code", totp(key_hex, time.time()))
    page.get_by_role("button", name="Confirm").click()

    # the recovery codes, shown once, then on to the page first asked for
    page.wait_for_url(re.compile(r"/two-factor/recovery-codes/"))
    codes = page.locator("[data-role=codes] li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    page.screenshot(path=SHOTS / "2fa_recovery_en.png", full_page=True)
    page.get_by_role("link", name="I have saved them: continue").click()
    page.wait_for_url(re.compile(r"/participants/$"))

    # signing in again asks for the code after the password
    page.get_by_role("button", name="Log out").click()
    sign_in(page, live_server.url, "dm")
    page.wait_for_url(re.compile(r"/two-factor/verify/"))
    page.screenshot(path=SHOTS / "2fa_verify_en.png", full_page=True)
    page.fill("#id_code", f"{(int(fresh_code(key_hex, manager)) + 1) % 10**6:06d}")  # a wrong code
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".errorlist")).to_be_visible()
    time.sleep(1.1)  # django-otp makes one wait a second after a wrong code
    page.fill("#id_code", fresh_code(key_hex, manager))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/participants/$"))

    # in Chinese: the code page, and a recovery code in place of the app
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.locator("form.logout button").click()
    sign_in(page, live_server.url, "dm")
    page.wait_for_url(re.compile(r"/two-factor/verify/"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.screenshot(path=SHOTS / "2fa_verify_zh.png", full_page=True)
    page.fill("#id_code", codes[0])
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(re.compile(r"/two-factor/recovery-codes/"))
    expect(page.locator(".alert-warning")).to_contain_text("9")
    page.screenshot(path=SHOTS / "2fa_recovery_zh.png", full_page=True)

    # the data manager's reset page lists the study's staff
    page.goto(f"{live_server.url}/two-factor/reset/")
    expect(page.locator("tr[data-user=inv07]")).to_be_visible()
    page.screenshot(path=SHOTS / "2fa_reset_zh.png", full_page=True)


def test_the_enrolment_page_in_chinese(transactional_db, live_server, make_user, study, page):
    from playwright.sync_api import expect

    SHOTS.mkdir(exist_ok=True)
    make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study)
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    sign_in(page, live_server.url, "pi")
    page.wait_for_url(re.compile(r"/two-factor/setup/"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("[data-role=qr] svg")).to_be_visible()
    page.screenshot(path=SHOTS / "2fa_setup_zh.png", full_page=True)
