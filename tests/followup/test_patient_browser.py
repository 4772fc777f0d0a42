"""A patient answers the ODI on a phone, in Chinese, through a link: all ten sections, a partial save, a
reload that keeps the answers, the submission with its confirmation; then the same link refuses changes. The
VAS is an unnumbered line, with and without JavaScript.

Drives Debian's /usr/bin/chromium through Playwright against pytest-django's live server (tests/browser.py);
no browser is ever downloaded. Screenshots: /tmp/epro_odi_zh.png, /tmp/epro_vas_unset.png,
/tmp/epro_vas_en.png, /tmp/epro_vas_zh.png, /tmp/epro_vas_nojs.png.
"""

import datetime
import re

import pytest

from followup.models import PatientLink, QuestionnaireResponse, Visit
from followup.services.links import patient_link_issue
from trial.clock import site_today

from ..browser import BROWSER_MARKS, SHOTS, TIMEOUT_MS

# The participant's dates are judged against the site's today: the server runs in this process, so the
# clock is stopped at FROZEN_AT (tests/conftest.py) for it too. Cookies keep working: Django sends Max-Age,
# which the browser counts from its own clock.
pytestmark = [*BROWSER_MARKS, pytest.mark.frozen]

# Ten sections summing to 16 of 50: 32.0 %, moderate disability. The first three are answered before a pause.
ODI_16 = [2, 1, 3, 2, 1, 2, 1, 0, 2, 2]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.fixture
def visit(make_participant, odi_wording):
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
    expect(phone.locator("h1")).to_have_text("演示文本——不是 Oswestry 功能障碍指数")  # the demo's wording
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


def assert_no_number_shown(phone) -> None:
    # innerText: what is rendered (the screen-reader description included), not what is hidden
    text = phone.locator("#item-pain").inner_text()
    assert text.strip() and not re.search(r"\d", text), text  # the anchors, no number, no unit
    assert phone.locator("input[type=number]:visible").count() == 0
    assert not re.search(r"\d", phone.locator("[data-vas-slider]").get_attribute("aria-valuetext") or "")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_vas_line_shows_no_number_while_the_mark_is_placed(
    transactional_db, live_server, coordinator, visit, phone, language
):
    from playwright.sync_api import expect

    link, token = patient_link_issue(actor=coordinator, visit=visit, instrument="vas", language=language)
    phone.goto(f"{live_server.url}/p/{token}/")
    assert_no_number_shown(phone)
    slider = phone.locator("[data-vas-slider]")
    status = phone.locator("[data-vas-status]")
    unset = {
        "en": "Not answered yet: tap or drag on the line.",
        "zh-hans": "还没有回答：请在线上点一下或拖动。",  # noqa: RUF001
    }
    expect(slider).to_be_visible()
    expect(slider).to_have_class(re.compile(r"is-unset"))
    expect(status).to_have_text(unset[language])
    expect(phone.locator("[data-vas-confirm]")).to_be_hidden()  # JavaScript ticks it at the first touch
    assert phone.locator("#id_pain_marked").is_checked() is False
    assert_no_number_shown(phone)
    if language == "en":
        slider.screenshot(path=str(SHOTS / "epro_vas_unset.png"))

    # a tap at about a third of the line places the mark: still no number anywhere
    box = slider.bounding_box()
    phone.touchscreen.tap(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    expect(slider).not_to_have_class(re.compile(r"is-unset"))
    expect(status).not_to_have_text(unset[language])
    assert phone.locator("#id_pain_marked").is_checked()
    expect(phone.locator("[data-progress]")).to_contain_text("1")
    assert_no_number_shown(phone)
    slider.press("ArrowRight")  # moved by the keyboard: the screen reader still hears no number
    assert_no_number_shown(phone)
    mark = int(slider.input_value())
    assert 20 <= mark <= 41
    phone.screenshot(path=str(SHOTS / f"epro_vas_{language[:2]}.png"), full_page=True)

    # saved as whole millimetres; the reload shows the mark where it was, and still no number
    phone.locator("button[value=save]").tap()
    phone.wait_for_url(re.compile(r"saved=1"))
    assert QuestionnaireResponse.objects.get(pk=link.response_id).answers == {"pain": mark}
    expect(slider).not_to_have_class(re.compile(r"is-unset"))
    assert int(slider.input_value()) == mark
    assert_no_number_shown(phone)


def test_without_javascript_the_patient_places_the_mark_and_says_so(
    transactional_db, live_server, coordinator, visit, page
):
    context = page.context.browser.new_context(java_script_enabled=False, locale="en-US", **PHONE)
    phone = context.new_page()
    phone.set_default_timeout(TIMEOUT_MS)
    try:
        link, token = patient_link_issue(actor=coordinator, visit=visit, instrument="vas", language="en")
        phone.goto(f"{live_server.url}/p/{token}/")
        assert_no_number_shown(phone)  # the number box was the fallback: now the line itself
        slider = phone.locator("[data-vas-slider]")
        marked = phone.locator("#id_pain_marked")
        assert slider.is_visible() and phone.locator("[data-vas-confirm]").is_visible()

        # an untouched line saved: no answer (its middle is never sent as one)
        phone.locator("button[value=save]").tap()
        phone.wait_for_url(re.compile(r"saved=1"))
        assert QuestionnaireResponse.objects.get(pk=link.response_id).answers == {"pain": None}

        box = slider.bounding_box()
        phone.touchscreen.tap(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2)
        phone.locator("label[for=id_pain_marked]").tap()
        assert marked.is_checked()
        assert_no_number_shown(phone)
        phone.screenshot(path=str(SHOTS / "epro_vas_nojs.png"), full_page=True)
        mark = int(slider.input_value())
        assert 60 <= mark <= 80
        with phone.expect_navigation():  # the URL already says saved=1: wait for the page itself
            phone.locator("button[value=save]").tap()
        assert QuestionnaireResponse.objects.get(pk=link.response_id).answers == {"pain": mark}
        assert int(slider.input_value()) == mark and marked.is_checked()
    finally:
        context.close()
