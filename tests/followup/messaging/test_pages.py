"""The outbox page (the messages to patients at the user's sites, with filters) and each staff member's own
digests (page and API): scoped by role, bad filters a 400 naming the field, fixed queries, both languages."""

import datetime
import re

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from followup.messaging.digests import digests_plan
from followup.messaging.dispatch import outbox_dispatch
from followup.messaging.models import MessageState, OutboxMessage, StaffMessageSetting

from ...conftest import client_for
from .conftest import message, page

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-10-01 09:00")]


def rows(html: str) -> list[str]:
    """The ids of the messages listed on the outbox page."""
    return re.findall(r'<tr id="message-(\d+)">', html)


@pytest.mark.parametrize(
    ("who", "expected"),
    [("coordinator", 6), ("other_coordinator", 1), ("data_manager", 7)],
)
def test_the_outbox_page_lists_the_messages_at_the_users_sites(outbox, people, who, expected):
    answer = page(people[who], "en").get("/messages/")
    assert answer.status_code == 200
    assert len(rows(answer.content.decode())) == expected


def test_a_blinded_adjudicator_does_not_open_the_outbox(outbox, people):
    """Messages to participants are participants' data: the permission matrix refuses the page (403), rather
    than an empty list that would look like a quiet outbox."""
    answer = page(people["adjudicator"], "en").get("/messages/")
    assert answer.status_code == 403
    assert rows(answer.content.decode()) == []


def test_the_outbox_page_filters_by_state_channel_site_and_study_id(outbox, people):
    dm = page(people["data_manager"], "en")
    unconfirmed = dm.get("/messages/?state=unconfirmed").content.decode()
    assert rows(unconfirmed) == [str(outbox["unconfirmed"].pk)]
    # An unconfirmed message links to the timeline, where it is confirmed or resent.
    timeline = f"/participants/{outbox['here'].study_id}/timeline/#message-{outbox['unconfirmed'].pk}"
    assert f'href="{timeline}">Confirm or resend</a>' in unconfirmed
    assert rows(dm.get("/messages/?site=91").content.decode()) == [str(outbox["there"].pk)]
    assert rows(dm.get("/messages/?channel=email").content.decode()) == []
    by_id = dm.get(f"/messages/?participant={outbox['there'].participant.study_id}").content.decode()
    assert rows(by_id) == [str(outbox["there"].pk)]


@pytest.mark.parametrize(
    ("query", "field"), [("state=lost", "state"), ("channel=fax", "channel"), ("site=99", "site")]
)
def test_a_bad_filter_is_a_400_naming_the_field_with_nothing_listed(outbox, people, query, field):
    answer = page(people["data_manager"], "en").get(f"/messages/?{query}")
    html = answer.content.decode()
    assert answer.status_code == 400 and rows(html) == []
    assert re.search(rf'id="id_{field}".*?Select a valid choice', html, re.S)


def test_the_outbox_page_in_chinese_reads_states_and_notes_in_chinese(outbox, people):
    OutboxMessage.objects.filter(pk=outbox["held"].pk).update(note_code="quiet_hours")
    html = page(people["coordinator"], "zh-hans").get("/messages/?state=held").content.decode()
    assert "暂缓：中心处于免打扰时段。" in html  # noqa: RUF001 -- Chinese punctuation
    pending = page(people["coordinator"], "zh-hans").get("/messages/?state=pending").content.decode()
    assert ">待发送</span>" in pending  # the message's state, not a visit's "待完成"


def test_the_outbox_page_runs_a_fixed_number_of_queries(outbox, people):
    dm = page(people["data_manager"], "en")
    dm.get("/messages/")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert dm.get("/messages/").status_code == 200
        return len(captured)

    few = queries()
    for step in range(20):
        message(outbox["here"], outbox["visit"], state="sent", step=f"close-{step}")
    assert queries() == few


def test_the_dashboard_counts_link_to_the_outbox_page(outbox, people):
    html = page(people["coordinator"], "en").get("/").content.decode()
    assert 'href="/messages/?state=unconfirmed"' in html and 'href="/account/digests/"' in html
    # The panel's "sent in the last 7 days" leads to the same 7 days on the page.
    assert 'href="/messages/?state=sent&amp;sent_within=7"' in html
    old = message(outbox["here"], outbox["visit"], state="sent", step="close-7")
    OutboxMessage.objects.filter(pk=old.pk).update(sent_at=timezone.now() - datetime.timedelta(days=8))
    recent = page(people["coordinator"], "en").get("/messages/?state=sent&sent_within=7").content.decode()
    assert rows(recent) == [str(outbox["sent"].pk)]
    assert page(people["coordinator"], "en").get("/messages/?sent_within=0").status_code == 400
    assert 'href="/messages/"' in html  # the main menu


def test_staff_switch_their_own_digests_off_and_the_dispatcher_honours_it(people, smtp_server):
    pi = people["pi"]
    pi.email = "pi@example.invalid"
    pi.save()
    client = page(pi, "en")
    form = client.get("/account/digests/").content.decode()
    assert "Weekly digest · your role receives it" in re.sub(r"\s+", " ", re.sub("<[^>]+>", "", form))
    answer = client.post("/account/digests/", {"daily": "on", "language": "en"})  # weekly unticked
    assert answer.status_code == 302 and answer["Location"] == "/account/digests/"
    setting = StaffMessageSetting.objects.get(user=pi)
    assert (setting.daily_digest, setting.weekly_digest, setting.language) == (True, False, "en")
    # Audited, with who changed it.
    event = apps.get_model("followup", "StaffMessageSettingEvent").objects.select_related("pgh_context").get()
    assert (event.weekly_digest, event.pgh_context.metadata["user"]) == (False, pi.pk)
    digests_plan()
    assert not OutboxMessage.objects.filter(recipient=pi).exists()  # not planned while switched off


def test_a_digest_planned_then_switched_off_is_cancelled_not_sent(people, smtp_server):
    pi = people["pi"]
    pi.email = "pi@example.invalid"
    pi.save()
    digests_plan()
    planned = OutboxMessage.objects.get(recipient=pi)
    OutboxMessage.objects.filter(pk=planned.pk).update(due_at=timezone.now())
    answer = client_for(pi).patch(
        "/api/v1/messages/digests/", {"weekly": False}, content_type="application/json"
    )
    assert answer.status_code == 200 and answer.json() == {
        "daily": True,
        "weekly": False,
        "language": "zh-hans",
    }
    outbox_dispatch()
    planned.refresh_from_db()
    assert (planned.state, planned.note_code) == (MessageState.CANCELLED, "switched_off")
    assert not smtp_server.messages


def test_the_digest_settings_refuse_a_bad_language_with_the_field(people):
    client = page(people["coordinator"], "zh-hans")
    answer = client.post("/account/digests/", {"daily": "on", "language": "fr"})
    assert answer.status_code == 400 and "选择一个有效的选项" in answer.content.decode()
    assert not StaffMessageSetting.objects.exists()
    api = client_for(people["coordinator"]).patch(
        "/api/v1/messages/digests/", {"language": "fr"}, content_type="application/json"
    )
    assert api.status_code == 400 and "language" in api.json()
    assert client_for(people["coordinator"]).get("/api/v1/messages/digests/").json() == {
        "daily": True,
        "weekly": True,
        "language": "zh-hans",
    }


def test_the_digest_page_says_when_no_digest_can_be_sent(people):
    html = page(people["monitor"], "zh-hans").get("/account/digests/").content.decode()
    assert "您的账户没有电子邮件地址" in html
