"""A patient answers the ODI on a phone, in Chinese, through a link: all ten sections, a partial save, a
reload that keeps the answers, the submission with its confirmation; then the same link refuses changes.

Drives Debian's /usr/bin/chromium through Playwright against pytest-django's live server (tests/browser.py);
no browser is ever downloaded. Screenshots: /tmp/epro_odi_zh.png, /tmp/epro_vas_unset.png, /tmp/epro_vas.png.
"""

import datetime
import re

import pytest

from followup.models import PatientLink, QuestionnaireResponse, Visit
from followup.services.links import patient_link_issue
from trial.clock import site_today

from ..browser import BROWSER_MARKS, SHOTS, TIMEOUT_MS

pytestmark = BROWSER_MARKS

# Ten sections summing to 16 of 50: 32.0 %, moderate disability. The first three are answered before a pause.
ODI_16 = [2, 1, 3, 2, 1, 2, 1, 0, 2, 2]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.fixture
def visit(make_participant):
    participant = make_participant()
    today = site_today(participant.site)
    return Visit.objects.create(
        participant=participant,
        code="M12",
        label={"en": "12 months", "zh-hans": "术后12个月"},
        sequence=5,
        target_date=today,
        window_open=today - datetime.timedelta(days=30),
        window_close=today + datetime.timedelta(days=30),
        questionnaires=["odi", "vas"],
    )


@pytest.fixture
def phone(page):
    """A phone-sized, touch page in the same browser as the shared `page` fixture."""
    context = page.context.browser.new_context(locale="zh-CN", **PHONE)
    phone = context.new_page()
    phone.set_default_timeout(TIMEOUT_MS)
    try:
        yield phone
    finally:
        context.close()


def tick(phone, section: int, value: int) -> None:
    """Tap a statement through its label, as a patient does."""
    phone.locator(f"label[for='id_q{section}_{value}']").tap()


def test_patient_answers_the_odi_in_chinese_on_a_phone(
    transactional_db, live_server, coordinator, visit, phone
):
    from playwright.sync_api import expect

    link, token = patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="zh-hans")
    url = f"{live_server.url}/p/{token}/"

    # given the link opened on a phone: the questionnaire in Chinese, alone, fitting the screen
    phone.goto(url)
    expect(phone.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(phone.locator("h1")).to_have_text("Oswestry 功能障碍指数")
    expect(phone.locator("fieldset legend").first).to_contain_text("疼痛程度")
    expect(phone.locator("fieldset[data-item]")).to_have_count(10)
    expect(phone.locator("input[type=radio]:checked")).to_have_count(0)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling

    # when three sections are answered and saved for later
    for section in range(3):
        tick(phone, section, ODI_16[section])
    progress = phone.locator("[data-progress]")
    expect(progress).to_contain_text("3")
    phone.locator("button[value=save]").tap()
    phone.wait_for_url(re.compile(r"saved=1"))
    expect(phone.locator("[data-role=saved]")).to_be_visible()

    # then a reload keeps them, and the rest can be answered
    phone.reload()
    for section in range(3):
        expect(phone.locator(f"#id_q{section}_{ODI_16[section]}")).to_be_checked()
    expect(phone.locator("input[type=radio]:checked")).to_have_count(3)
    for section in range(3, 10):
        tick(phone, section, ODI_16[section])
    expect(phone.locator("input[type=radio]:checked")).to_have_count(10)
    phone.screenshot(path=str(SHOTS / "epro_odi_zh.png"), full_page=True)

    # when submitted: a confirmation first, then final
    phone.locator("button[value=review]").tap()
    confirm = phone.locator("button[value=submit]")
    expect(confirm).to_be_visible()
    assert QuestionnaireResponse.objects.get(pk=link.response_id).status == "draft"
    confirm.tap()
    expect(phone.locator("[data-role=done]")).to_be_visible()

    response = QuestionnaireResponse.objects.get(pk=link.response_id)
    assert (response.status, response.answers, str(response.score), response.band) == (
        "final",
        ODI_16,
        "32.0",
        "moderate",
    )
    assert (response.source, response.language, response.entered_by) == ("patient", "zh-hans", None)
    assert PatientLink.objects.get(pk=link.pk).used_at is not None

    # then the same link refuses: a friendly page, in Chinese, with nothing of the questionnaire
    answer = phone.goto(url)
    assert answer.status == 410
    expect(phone.locator("[data-reason=used]")).to_be_visible()
    expect(phone.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(phone.locator("input")).to_have_count(0)
    # and a replayed save (the browser's back button and resubmit) changes nothing
    replay = phone.request.post(url, form={"action": "save", "version": str(response.version), "q0": "5"})
    assert replay.status == 410
    assert QuestionnaireResponse.objects.get(pk=link.response_id).version == response.version


def test_the_vas_slider_has_no_value_until_touched(transactional_db, live_server, coordinator, visit, phone):
    from playwright.sync_api import expect

    link, token = patient_link_issue(actor=coordinator, visit=visit, instrument="vas", language="en")
    phone.goto(f"{live_server.url}/p/{token}/")
    slider = phone.locator("[data-vas-slider]")
    readout = phone.locator("[data-vas-readout]")
    expect(slider).to_be_visible()
    expect(slider).to_have_class(re.compile(r"is-unset"))
    expect(readout).to_have_text("Not answered yet: tap or drag on the line.")
    assert phone.locator("input[name=pain]").input_value() == ""
    slider.screenshot(path=str(SHOTS / "epro_vas_unset.png"))

    # a tap at about a third of the line sets the mark, in whole millimetres
    box = slider.bounding_box()
    phone.touchscreen.tap(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    expect(slider).not_to_have_class(re.compile(r"is-unset"))
    expect(readout).to_have_text(re.compile(r"^\d{1,3} mm$"))
    mark = int(phone.locator("input[name=pain]").input_value())
    assert 20 <= mark <= 40
    phone.screenshot(path=str(SHOTS / "epro_vas.png"), full_page=True)
    phone.locator("button[value=save]").tap()
    phone.wait_for_url(re.compile(r"saved=1"))
    assert QuestionnaireResponse.objects.get(pk=link.response_id).answers == {"pain": mark}
    expect(readout).to_have_text(f"{mark} mm")
