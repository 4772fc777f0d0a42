"""The timeline's Messages section and the dashboard's messages panel on a phone (390x844), in English and
Chinese, in Debian's chromium: a coordinator resends an unconfirmed message with the page's own button (CSRF,
post, redirect back to the section with the outcome said).

The panel's unconfirmed count leads to the outbox page, and its message to the timeline.

Screenshots: /tmp/messages_outbox_en.png, /tmp/messages_outbox_zh.png,
/tmp/messages_timeline_en.png, /tmp/messages_timeline_zh.png, /tmp/messages_panel_en.png,
/tmp/messages_panel_zh.png.
"""

import pytest
from django.test import Client

from followup.messaging.models import OutboxMessage

from ...browser import BROWSER_MARKS, SHOTS, TIMEOUT_MS
from ...conftest import open_visit
from .conftest import STATES, message

pytestmark = [*BROWSER_MARKS, pytest.mark.frozen]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
LANGUAGES = {"en": "en-US", "zh-hans": "zh-CN"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_coordinator_sees_and_answers_the_messages_on_a_phone(
    transactional_db, live_server, make_participant, coordinator, page, language
):
    participant = make_participant()
    visit = open_visit(participant)
    rows = {state: message(participant, visit, state=state) for state in STATES}
    message(participant, visit, state="sent", channel="email", instrument="vas", step="close-7")
    session = Client()
    session.force_login(coordinator)
    context = page.context.browser.new_context(locale=LANGUAGES[language], **PHONE)
    context.add_cookies(
        [
            {"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url},
            {"name": "django_language", "value": language, "url": live_server.url},
        ]
    )
    phone = context.new_page()
    phone.set_default_timeout(TIMEOUT_MS)
    short = language[:2]
    try:
        phone.goto(f"{live_server.url}/")
        panel = phone.locator("section[aria-labelledby='messages-title']")
        panel.scroll_into_view_if_needed()
        panel.screenshot(path=str(SHOTS / f"messages_panel_{short}.png"))
        assert panel.locator("dd").all_inner_texts() == ["2", "1", "1", "1"]

        # From the panel's count to the outbox page, and from the message there to its timeline.
        unconfirmed = {"en": "Unconfirmed (outcome unknown)", "zh-hans": "未确认（结果未知）"}[language]  # noqa: RUF001
        panel.get_by_role("link", name=unconfirmed).click()
        phone.wait_for_url("**/messages/?state=unconfirmed")
        assert phone.locator("tbody tr").count() == 1
        phone.screenshot(path=str(SHOTS / f"messages_outbox_{short}.png"), full_page=True)
        phone.get_by_role(
            "link", name={"en": "Confirm or resend", "zh-hans": "确认或重新发送"}[language]
        ).click()
        phone.wait_for_url(
            f"**/participants/{participant.study_id}/timeline/#message-{rows['unconfirmed'].pk}"
        )
        section = phone.locator("#messages")
        assert section.locator("li.message").count() == 7
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(SHOTS / f"messages_timeline_{short}.png"))
        # Nothing wider than the phone: the section fits its 390 px.
        box = section.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        resend = {"en": "Resend", "zh-hans": "重新发送"}[language]
        section.get_by_role("button", name=resend).click()
        phone.wait_for_url(f"**/participants/{participant.study_id}/timeline/#messages")
        said = {"en": "The message will be sent again shortly.", "zh-hans": "该消息将很快重新发送。"}[
            language
        ]
        assert said in phone.content()
        assert phone.locator("#messages").get_by_role("button", name=resend).count() == 0
    finally:
        context.close()
    assert OutboxMessage.objects.get(pk=rows["unconfirmed"].pk).state == "pending"
