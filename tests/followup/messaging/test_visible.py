"""The outbox made visible and actionable: the API's list scoped by role (blinded adjudicators read nothing),
staff's confirm / resend of a message whose outcome is unknown, the timeline's Messages section and the
dashboard's counts, each in a fixed number of queries and in both languages."""

import datetime
import re

import pytest
from django.utils import timezone

from followup.messaging.dispatch import outbox_dispatch
from followup.messaging.models import MessageState, OutboxMessage
from trial.models import ParticipantIdentity

from ...conftest import client_for
from .conftest import message, page

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-10-01 09:00")]


def listed(user, query: str = "") -> list[dict]:
    answer = client_for(user).get(f"/api/v1/messages/{query}")
    assert answer.status_code == 200, answer.content
    return answer.json()["results"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("coordinator", 6),
        ("investigator", 6),
        ("other_coordinator", 1),
        ("monitor", 7),
        ("pi", 7),
        ("data_manager", 7),
    ],
)
def test_the_list_is_scoped_by_role_and_blind_for_adjudicators(outbox, people, who, expected):
    assert len(listed(people[who])) == expected


def test_a_blinded_adjudicator_is_refused_the_list(outbox, people):
    """The permission matrix refuses it (403), no empty list: messages to participants are their data."""
    answer = client_for(people["adjudicator"]).get("/api/v1/messages/")
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"


def test_the_list_filters_and_shows_no_address_text_or_token(outbox, people):
    dm = people["data_manager"]
    ParticipantIdentity.objects.filter(participant=outbox["here"]).update(email="patient@example.invalid")
    rows = listed(dm, f"?participant={outbox['here'].study_id}&state=unconfirmed&kind=reminder&channel=sms")
    assert [row["id"] for row in rows] == [outbox["unconfirmed"].pk]
    row = rows[0]
    assert set(row) == {
        "id", "study_id", "site", "recipient", "visit", "kind", "instrument", "channel", "step", "language",
        "state", "state_text", "due_at", "attempts", "sent_at", "note", "note_code", "note_params",
        "created_at",
    }  # fmt: skip
    assert (row["study_id"], row["site"], row["visit"], row["state"]) == (
        outbox["here"].study_id, "07", "M12", "unconfirmed",
    )  # fmt: skip
    body = client_for(dm).get("/api/v1/messages/").content.decode()
    assert "13800000000" not in body and "example.invalid" not in body and "Synthetic" not in body
    assert [r["site"] for r in listed(dm, "?site=91")] == ["91"]
    assert listed(dm, "?channel=email") == []
    chinese = client_for(dm).get("/api/v1/messages/?state=held", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert chinese["results"][0]["state_text"].startswith("暂缓")


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        ("?state=lost", "state", 400),
        ("?channel=fax", "channel", 400),
        ("?site=9-9", "site", 400),  # not a site code
        ("?site=99", "site", 403),  # one, but of no site the user can see
    ],
)
def test_bad_filters_answer_4xx_with_the_field(outbox, people, query, field, status):
    answer = client_for(people["data_manager"]).get(f"/api/v1/messages/{query}")
    assert answer.status_code == status and field in answer.json()


def test_the_list_runs_a_fixed_number_of_queries(outbox, people, django_assert_num_queries):
    dm = client_for(people["data_manager"])
    dm.get("/api/v1/messages/")
    # The permission matrix's read of the user's roles (trial.access.user_roles), then the count and the page,
    # the user's sites a subquery of each (the view reads no roles of its own for the matrix's to replace).
    with django_assert_num_queries(3):
        dm.get("/api/v1/messages/")
    for _ in range(20):
        message(outbox["here"], outbox["visit"], state="sent", step=f"close-{_}")
    with django_assert_num_queries(3):
        assert dm.get("/api/v1/messages/").status_code == 200


def post(user, pk: int, step: str):
    return client_for(user).post(f"/api/v1/messages/{pk}/{step}/")


def test_site_staff_confirm_an_unconfirmed_message(outbox, people):
    answer = post(people["coordinator"], outbox["unconfirmed"].pk, "confirm")
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "sent" and answer.json()["note_code"] == "confirmed"
    assert answer.json()["note"] == "Confirmed as delivered by coord07."
    stored = OutboxMessage.objects.get(pk=outbox["unconfirmed"].pk)
    assert stored.state == MessageState.SENT and stored.sent_at is not None
    # The answer is an audit-trail row naming who answered and why; the machine's own steps are not.
    (event,) = stored.answers.select_related("pgh_context")
    assert (event.state, event.note_code) == ("sent", "confirmed")
    assert event.pgh_context.metadata["user"] == people["coordinator"].pk
    assert event.pgh_context.metadata["reason"] == "message confirmed by staff"
    assert post(people["coordinator"], stored.pk, "confirm").status_code == 409  # already answered


def test_a_data_manager_resends_and_the_dispatcher_sends_it_again(outbox, people, odi_wording, sms_gateway):
    ParticipantIdentity.objects.filter(participant=outbox["here"]).update(contact_language="zh-hans")
    answer = post(people["data_manager"], outbox["unconfirmed"].pk, "resend")
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "pending" and answer.json()["note_params"] == {"by": "dm"}
    assert answer.json()["note"] == "Resend requested by dm."
    OutboxMessage.objects.exclude(pk=outbox["unconfirmed"].pk).update(state="cancelled")
    assert outbox_dispatch().outcomes == {"sent": 1}
    assert list(sms_gateway.delivered) == [outbox["unconfirmed"].key]  # sent with a fresh link
    assert "/p/" in sms_gateway.delivered[outbox["unconfirmed"].key]["json"]["text"]


@pytest.mark.parametrize("state", ["sent", "held", "failed", "pending", "cancelled"])
@pytest.mark.parametrize("step", ["confirm", "resend"])
def test_only_an_unconfirmed_message_is_answered_409_otherwise(outbox, people, state, step):
    answer = post(people["coordinator"], outbox[state].pk, step)
    assert answer.status_code == 409 and answer.json()["code"] == "not_unconfirmed"
    assert OutboxMessage.objects.get(pk=outbox[state].pk).state == state


@pytest.mark.parametrize(("who", "status"), [("monitor", 403), ("pi", 403), ("other_coordinator", 404)])
def test_only_site_staff_or_a_data_manager_answer(outbox, people, who, status):
    for step in ("confirm", "resend"):
        assert post(people[who], outbox["unconfirmed"].pk, step).status_code == status
    assert post(people["adjudicator"], outbox["unconfirmed"].pk, "confirm").status_code == 404
    assert OutboxMessage.objects.get(pk=outbox["unconfirmed"].pk).state == "unconfirmed"


def test_the_timeline_lists_the_messages_with_buttons_for_an_unconfirmed_one(
    outbox, people, django_assert_num_queries
):
    url = f"/participants/{outbox['here'].study_id}/timeline/"
    english = page(people["coordinator"], "en")
    english.get(url)
    # the messages among them; the roles at the site (trial.access.roles_at) are those the request has read
    # once (trial.access.user_roles), no longer two queries of their own
    with django_assert_num_queries(11) as captured:
        html = english.get(url).content.decode()
    baseline = len(captured.captured_queries)
    section = re.search(r'<section[^>]*id="messages".*?</section>', html, re.S).group(0)
    assert section.count('class="message message-') == 6
    assert "Unconfirmed (outcome unknown)" in section and "The window opens" in section
    assert "12 months" in section and "SMS" in section
    assert section.count("Confirm delivered") == 1 and section.count(">Resend<") == 1
    assert "13800000000" not in section
    for _ in range(10):
        message(outbox["here"], outbox["visit"], state="failed", step=f"close-{_}")
    with django_assert_num_queries(baseline):
        english.get(url)
    chinese = page(people["coordinator"], "zh-hans").get(url).content.decode()
    section = re.search(r'<section[^>]*id="messages".*?</section>', chinese, re.S).group(0)
    assert "消息" in section and "未确认" in section and "确认已送达" in section
    assert "时间窗开始时" in section
    # A monitor reads the messages but has no buttons.
    monitor = page(people["monitor"], "en").get(url).content.decode()
    assert "Unconfirmed (outcome unknown)" in monitor and "Confirm delivered" not in monitor


def test_the_timeline_buttons_post_redirect_and_say_what_happened(outbox, people):
    client = page(people["coordinator"], "en")
    timeline = f"/participants/{outbox['here'].study_id}/timeline/"
    url = f"/participants/{outbox['here'].study_id}/messages/{outbox['unconfirmed'].pk}/resend/"
    assert client.get(url).status_code == 405
    answer = client.post(url)
    assert answer.status_code == 302 and answer["Location"] == f"{timeline}#messages"
    assert OutboxMessage.objects.get(pk=outbox["unconfirmed"].pk).state == "pending"
    assert "The message will be sent again shortly." in client.get(timeline).content.decode()
    # A second click (the message no longer unconfirmed): a friendly message, nothing changed.
    chinese = page(people["coordinator"], "zh-hans")
    answer = chinese.post(url.replace("resend", "confirm"))
    assert answer.status_code == 302
    assert "只有结果未知的消息" in chinese.get(timeline).content.decode()
    assert OutboxMessage.objects.get(pk=outbox["unconfirmed"].pk).state == "pending"
    # A monitor may read but not act: the friendly 403 page.
    refused = page(people["monitor"], "en").post(url)
    assert refused.status_code == 403 and "data manager" in refused.content.decode()
    # Another site's coordinator does not find it.
    assert page(people["other_coordinator"], "en").post(url).status_code == 404


def test_the_dashboard_counts_messages_at_the_users_sites(outbox, people, django_assert_num_queries):
    old = message(outbox["here"], outbox["visit"], state="sent", step="close-7")
    OutboxMessage.objects.filter(pk=old.pk).update(sent_at=timezone.now() - datetime.timedelta(days=8))
    html = page(people["coordinator"], "en").get("/").content.decode()
    for label, count in (
        ("Sent in the last 7 days", 1),
        ("Held (quiet hours)", 1),
        ("Failed", 1),
        ("Unconfirmed (outcome unknown)", 1),
    ):
        assert re.search(rf">{re.escape(label)}</a></dt><dd>{count}</dd>", html), label
    study_wide = page(people["data_manager"], "zh-hans").get("/").content.decode()
    assert re.search(r"最近7天已发送</a></dt><dd>2</dd>", study_wide)
    adjudicator = page(people["adjudicator"], "en").get("/").content.decode()
    assert "Sent in the last 7 days" not in adjudicator


def test_the_messages_panel_runs_two_queries(outbox, people, django_assert_num_queries):
    from followup.messaging.selectors import messages_panel

    with django_assert_num_queries(2):
        panel = messages_panel(user=people["pi"])
    assert (panel["sent"], panel["held"], panel["failed"], panel["unconfirmed"]) == (2, 1, 1, 1)
    with django_assert_num_queries(1):
        assert messages_panel(user=people["adjudicator"]) is None


def test_a_digest_is_seen_and_answered_by_its_reader_and_a_data_manager_only(outbox, people, study):
    """A digest has no site: its reader sees it, and a data manager of the reader's study; no one else."""
    coordinator = people["coordinator"]
    digest = OutboxMessage.objects.create(
        key=f"digest_daily:u{coordinator.pk}:2026-10-01",
        kind="digest_daily",
        channel="email",
        recipient=coordinator,
        step="2026-10-01",
        language="zh-hans",
        state="unconfirmed",
        due_at=timezone.now(),
        attempts=1,
        claimed_at=timezone.now(),
    )
    for who, sees in (
        ("coordinator", True),
        ("data_manager", True),
        ("other_coordinator", False),
        ("pi", False),
        ("monitor", False),
    ):
        rows = listed(people[who], "?kind=digest_daily")
        assert [row["id"] for row in rows] == ([digest.pk] if sees else []), who
    # an adjudicator does not open the list at all (the permission matrix's 403)
    assert client_for(people["adjudicator"]).get("/api/v1/messages/?kind=digest_daily").status_code == 403
    row = listed(people["data_manager"], "?kind=digest_daily")[0]
    assert (row["study_id"], row["site"], row["recipient"]) == (None, None, "coord07")
    assert post(people["other_coordinator"], digest.pk, "resend").status_code == 404
    answer = post(people["data_manager"], digest.pk, "resend")
    assert answer.status_code == 200 and answer.json()["state"] == "pending"
