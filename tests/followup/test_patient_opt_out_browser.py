"""A patient stops the SMS reminders from their link on a phone, in Chinese, then reads the page in English:
the link under the questionnaire, the question, the confirmation. No cookie is needed for the form.

Screenshots (390x844): /tmp/epro_stop_offer_zh.png, /tmp/epro_stop_ask_zh.png, /tmp/epro_stop_done_zh.png,
/tmp/epro_stop_done_en.png, /tmp/epro_stop_offer_en.png, /tmp/epro_stop_ask_en.png, /tmp/epro_stop_bad_en.png,
/tmp/epro_stop_bad_zh.png.
"""

import pytest

from followup.services.links import patient_link_issue
from trial.models import ContactOptOut, ParticipantIdentity

from ..browser import BROWSER_MARKS, SHOTS
from ..conftest import open_visit
from .test_patient_browser import phone  # noqa: F401 -- fixture

pytestmark = [*BROWSER_MARKS, pytest.mark.frozen]


def test_a_patient_stops_sms_reminders_on_a_phone(
    transactional_db,
    live_server,
    coordinator,
    make_participant,
    odi_wording,
    phone,  # noqa: F811 -- the fixture imported above
):
    from playwright.sync_api import expect

    participant = make_participant()
    ParticipantIdentity.objects.filter(participant=participant).update(email="patient@example.invalid")
    _link, token = patient_link_issue(
        actor=coordinator, visit=open_visit(participant), instrument="odi", language="zh-hans"
    )
    phone.goto(f"{live_server.url}/p/{token}/")
    reminders = phone.locator("[data-role=reminders]")
    reminders.scroll_into_view_if_needed()
    expect(reminders.locator("a")).to_have_text(["停止短信提醒", "停止电子邮件提醒"])
    phone.screenshot(path=str(SHOTS / "epro_stop_offer_zh.png"))

    reminders.get_by_text("停止短信提醒").tap()
    expect(phone.locator("h1")).to_have_text("停止短信提醒？")  # noqa: RUF001
    phone.screenshot(path=str(SHOTS / "epro_stop_ask_zh.png"))
    assert not ContactOptOut.objects.exists()

    phone.get_by_role("button", name="是的，停止短信提醒").tap()  # noqa: RUF001
    expect(phone.locator("[data-role=stopped] h1")).to_have_text("短信提醒已停止")
    phone.screenshot(path=str(SHOTS / "epro_stop_done_zh.png"))
    assert ContactOptOut.objects.get().source == "patient"
    assert phone.context.cookies() == []  # no session, no CSRF cookie: the link is the credential

    phone.get_by_role("link", name="English").tap()
    expect(phone.locator("h1")).to_have_text("Reminders by SMS are stopped")
    phone.screenshot(path=str(SHOTS / "epro_stop_done_en.png"))
    phone.get_by_role("link", name="Go back to my questionnaire").tap()
    reminders = phone.locator("[data-role=reminders]")
    expect(reminders.locator("a")).to_have_text(["Stop reminders by e-mail"])
    reminders.scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "epro_stop_offer_en.png"))
    reminders.get_by_text("Stop reminders by e-mail").tap()
    expect(phone.locator("h1")).to_have_text("Stop reminders by e-mail?")
    phone.screenshot(path=str(SHOTS / "epro_stop_ask_en.png"))

    for language in ("en", "zh"):
        lang = "en" if language == "en" else "zh-hans"
        phone.goto(f"{live_server.url}/p/{token}/stop/?lang={lang}&channel=fax")
        expect(phone.locator("[data-role=stop-bad]")).to_be_visible()
        phone.screenshot(path=str(SHOTS / f"epro_stop_bad_{language}.png"))
    assert ContactOptOut.objects.count() == 1
